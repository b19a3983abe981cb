#pragma once

#include <memory>
#include <optional>
#include <string>

#include "corral/core/asio.hpp"
#include "corral/core/error_info.hpp"
#include "corral/jobs/job.hpp"
#include "sqlite_db.hpp"

namespace corral::store {

/// A job as the `jobs` table holds it: plain values, made on the core's thread so the writer thread
/// never touches a live job.
struct job_row {
    std::int64_t id = 0;
    std::string owner;
    std::string state;
    std::int64_t created_ns = 0;
    std::optional<std::int64_t> started_ns;
    std::optional<std::int64_t> finished_ns;
    std::int64_t queue_seq = 0;
    std::int64_t priority = 0;
    std::string group;
    std::string spec;  // JSON (jobs/job_spec_json.hpp)
    std::string task;
    std::string args;    // JSON
    std::string result;  // JSON
    std::optional<double> progress;
    std::string exit;  // JSON
    std::string reason;
    std::int64_t pid = 0;
    std::string idempotency_key;
    std::string output_file;  // empty: no file (no output, or output kept in memory only)
    std::int64_t output_first = 0;
    std::int64_t output_file_pos = 0;
    std::int64_t output_end = 0;
    std::int64_t attempt = 1;
    std::string attempts = "[]";  // JSON (jobs/workflow_json.hpp)
    std::optional<std::int64_t> next_attempt_ns;
    std::int64_t output_from = 0;
    /// false: only what changes after submission is set (see state_fields_of()); the rest is as the
    /// job's whole row has it.
    bool whole = true;
};

/// `output_file` is where the job's log writes its file, if it writes one. `whole`: false leaves
/// out what never changes after submission (spec, owner, task, arguments, ...), which is most of the
/// cost of making a row.
job_row to_row(const jobs::job& j, const std::string& output_file, bool whole = true);
/// Copies what a state-only row sets into a whole row of the same job.
void copy_state(job_row& whole, const job_row& state);

/// The statement that writes a row (insert or replace), and binding a row to it.
extern const char* const upsert_job_sql;
void bind_row(statement& upsert, const job_row& row);
/// The statement that writes a state-only row over the job's whole one, and binding it.
extern const char* const update_job_state_sql;
void bind_state(statement& update, const job_row& row);

/// The query that reads every row, oldest first, and reading one of its rows.
extern const char* const select_jobs_sql;
job_row read_row(const statement& select);

/// The job a row describes, with its output log (see loaded_state). Errors: errc::store_failed
/// naming the job and the damaged field.
result_info<std::unique_ptr<jobs::job>> make_job(const job_row& row, net::any_io_executor executor);

}  // namespace corral::store
