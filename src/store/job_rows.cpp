#include "job_rows.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "corral/jobs/job_spec_json.hpp"
#include "corral/jobs/workflow_json.hpp"

namespace corral::store {
namespace {

namespace json = boost::json;

std::int64_t to_ns(jobs::clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

jobs::clock::time_point from_ns(std::int64_t ns) {
    return jobs::clock::time_point(
        std::chrono::duration_cast<jobs::clock::duration>(std::chrono::nanoseconds(ns)));
}

std::optional<std::int64_t> to_ns(const std::optional<jobs::clock::time_point>& t) {
    return t ? std::optional(to_ns(*t)) : std::nullopt;
}

std::optional<jobs::clock::time_point> from_ns(const std::optional<std::int64_t>& ns) {
    return ns ? std::optional(from_ns(*ns)) : std::nullopt;
}

json::value parse_or_null(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    return ec ? json::value(nullptr) : v;
}

// A log for a job read back: its saved file, or what is left of one (a job that was running has
// what it had flushed), or an empty log. Queued jobs get a fresh log that writes the same file; one
// between its attempts goes on writing after what they left there.
std::unique_ptr<output::output_log> make_log(const job_row& row,
                                             const jobs::job& j,
                                             net::any_io_executor executor) {
    output::log_options options = j.spec.output;
    options.spill_file = row.output_file;
    std::error_code ec;
    const bool on_file = !row.output_file.empty() && std::filesystem::exists(row.output_file, ec);
    if (jobs::is_pending(j.state)) {
        if (on_file && j.retries && !j.retries.get().attempts.empty()) {
            auto log = output::output_log::reopen(executor,
                                                  row.output_file,
                                                  static_cast<std::uint64_t>(row.output_first),
                                                  static_cast<std::uint64_t>(row.output_file_pos));
            if (log && (*log)->continue_writing(options)) {
                return std::move(*log);
            }
        }
        return std::move(*output::output_log::create(executor, options));
    }
    if (on_file) {
        // Where its first kept record is, as of its last record (a running job's is that of its
        // start, or of the end of its last attempt).
        auto log = output::output_log::reopen(executor,
                                              row.output_file,
                                              static_cast<std::uint64_t>(row.output_first),
                                              static_cast<std::uint64_t>(row.output_file_pos));
        if (log) {
            return std::move(*log);
        }
        spdlog::warn("job {}: {}", row.id, log.error().what());
    }
    options.spill_file.clear();
    auto log = std::move(*output::output_log::create(executor, options));
    log->close();
    return log;
}

}  // namespace

job_row to_row(const jobs::job& j, const std::string& output_file, bool whole) {
    job_row r;
    r.id = static_cast<std::int64_t>(j.id);
    r.whole = whole;
    if (whole) {
        r.owner = j.owner;
        r.created_ns = to_ns(j.created);
        r.priority = j.spec.priority;
        r.group = j.spec.group;
        r.spec = json::serialize(jobs::spec_to_json(j.spec));
        r.task = j.task;
        r.args = json::serialize(j.args);
        r.idempotency_key = j.idempotency_key;
    }
    r.state = std::string(jobs::to_string(j.state));
    r.started_ns = to_ns(j.started);
    r.finished_ns = to_ns(j.finished);
    r.queue_seq = static_cast<std::int64_t>(j.queue_seq);
    r.result = j.result.is_null() ? "null" : json::serialize(j.result);
    r.progress = j.progress;
    r.exit = j.exit ? json::serialize(jobs::exit_to_json(j.exit)) : "null";
    r.reason = j.reason;
    r.pid = j.pid;
    const auto& retries = j.retries.get();
    r.attempt = retries.attempt;
    r.attempts = retries.attempts.empty() ? "[]" : json::serialize(jobs::attempts_to_json(retries.attempts, false));
    r.next_attempt_ns = to_ns(retries.next_attempt);
    r.output_from = static_cast<std::int64_t>(retries.output_from);
    // Where the log writes its file: it does once output outgrows memory, and always at close.
    r.output_file = output_file;
    if (j.log) {
        r.output_first = static_cast<std::int64_t>(j.log->first_offset());
        r.output_file_pos = static_cast<std::int64_t>(j.log->first_file_pos());
        r.output_end = static_cast<std::int64_t>(j.log->end_offset());
        if (j.log->closed() && !j.log->saved()) {
            r.output_file.clear();  // no output (or the file could not be written): nothing to read back
        }
    }
    return r;
}

void copy_state(job_row& whole, const job_row& state) {
    whole.state = state.state;
    whole.started_ns = state.started_ns;
    whole.finished_ns = state.finished_ns;
    whole.queue_seq = state.queue_seq;
    whole.result = state.result;
    whole.progress = state.progress;
    whole.exit = state.exit;
    whole.reason = state.reason;
    whole.pid = state.pid;
    whole.output_file = state.output_file;
    whole.output_first = state.output_first;
    whole.output_file_pos = state.output_file_pos;
    whole.output_end = state.output_end;
    whole.attempt = state.attempt;
    whole.attempts = state.attempts;
    whole.next_attempt_ns = state.next_attempt_ns;
    whole.output_from = state.output_from;
}

const char* const update_job_state_sql =
    "UPDATE jobs SET state = ?2, started_ns = ?3, finished_ns = ?4, queue_seq = ?5, result = ?6, "
    "progress = ?7, exit = ?8, reason = ?9, pid = ?10, output_file = ?11, output_first = ?12, "
    "output_file_pos = ?13, output_end = ?14, attempt = ?15, attempts = ?16, next_attempt_ns = ?17, "
    "output_from = ?18 WHERE id = ?1";

void bind_state(statement& s, const job_row& r) {
    s.bind(1, r.id).bind(2, r.state).bind(3, r.started_ns).bind(4, r.finished_ns).bind(5, r.queue_seq);
    s.bind(6, r.result).bind(7, r.progress).bind(8, r.exit).bind(9, r.reason).bind(10, r.pid);
    s.bind(11, r.output_file).bind(12, r.output_first).bind(13, r.output_file_pos).bind(14, r.output_end);
    s.bind(15, r.attempt).bind(16, r.attempts).bind(17, r.next_attempt_ns).bind(18, r.output_from);
}

const char* const upsert_job_sql =
    "INSERT OR REPLACE INTO jobs (id, owner, state, created_ns, started_ns, finished_ns, queue_seq, "
    "priority, grp, spec, task, args, result, progress, exit, reason, pid, idempotency_key, output_file, "
    "output_first, output_file_pos, output_end, attempt, attempts, next_attempt_ns, output_from) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
    "?22, ?23, ?24, ?25, ?26)";

void bind_row(statement& s, const job_row& r) {
    s.bind(1, r.id).bind(2, r.owner).bind(3, r.state).bind(4, r.created_ns).bind(5, r.started_ns);
    s.bind(6, r.finished_ns).bind(7, r.queue_seq).bind(8, r.priority).bind(9, r.group).bind(10, r.spec);
    s.bind(11, r.task).bind(12, r.args).bind(13, r.result).bind(14, r.progress).bind(15, r.exit);
    s.bind(16, r.reason).bind(17, r.pid).bind(18, r.idempotency_key).bind(19, r.output_file);
    s.bind(20, r.output_first).bind(21, r.output_file_pos).bind(22, r.output_end);
    s.bind(23, r.attempt).bind(24, r.attempts).bind(25, r.next_attempt_ns).bind(26, r.output_from);
}

const char* const select_jobs_sql =
    "SELECT id, owner, state, created_ns, started_ns, finished_ns, queue_seq, priority, grp, spec, task, "
    "args, result, progress, exit, reason, pid, idempotency_key, output_file, output_first, "
    "output_file_pos, output_end, attempt, attempts, next_attempt_ns, output_from FROM jobs ORDER BY id";

job_row read_row(const statement& s) {
    auto maybe_int = [&](int c) { return s.is_null(c) ? std::nullopt : std::optional(s.integer(c)); };
    job_row r;
    r.id = s.integer(0);
    r.owner = s.text(1);
    r.state = s.text(2);
    r.created_ns = s.integer(3);
    r.started_ns = maybe_int(4);
    r.finished_ns = maybe_int(5);
    r.queue_seq = s.integer(6);
    r.priority = s.integer(7);
    r.group = s.text(8);
    r.spec = s.text(9);
    r.task = s.text(10);
    r.args = s.text(11);
    r.result = s.text(12);
    r.progress = s.is_null(13) ? std::nullopt : std::optional(s.real(13));
    r.exit = s.text(14);
    r.reason = s.text(15);
    r.pid = s.integer(16);
    r.idempotency_key = s.text(17);
    r.output_file = s.text(18);
    r.output_first = s.integer(19);
    r.output_file_pos = s.integer(20);
    r.output_end = s.integer(21);
    r.attempt = s.integer(22);
    r.attempts = s.text(23);
    r.next_attempt_ns = maybe_int(24);
    r.output_from = s.integer(25);
    return r;
}

result_info<std::unique_ptr<jobs::job>> make_job(const job_row& row, net::any_io_executor executor) {
    auto state = jobs::job_state_from_string(row.state);
    boost::system::error_code ec;
    auto spec_json = json::parse(row.spec, ec);
    auto spec = ec ? result_info<jobs::job_spec>(error_info{errc::invalid_argument, ec.message()})
                   : jobs::spec_from_json(spec_json);
    if (!state || !spec) {
        return error_info{
            errc::store_failed,
            fmt::format("job {} is damaged in the store: {}",
                        row.id,
                        !state ? fmt::format("unknown state '{}'", row.state) : spec.error().what())};
    }
    auto j = std::make_unique<jobs::job>();
    j->id = static_cast<jobs::job_id>(row.id);
    j->owner = row.owner;
    j->spec = std::move(*spec);
    j->state = *state;
    j->created = from_ns(row.created_ns);
    j->queue_seq = static_cast<std::uint64_t>(row.queue_seq);
    j->started = from_ns(row.started_ns);
    j->finished = from_ns(row.finished_ns);
    j->exit = jobs::exit_from_json(parse_or_null(row.exit));
    j->reason = row.reason;
    j->pid = static_cast<pid_t>(row.pid);
    j->task = row.task;
    j->args = parse_or_null(row.args);
    j->result = parse_or_null(row.result);
    j->progress = row.progress;
    j->idempotency_key = row.idempotency_key;
    if (row.attempt > 1 || row.next_attempt_ns) {  // most jobs were never retried: they keep no record of it
        auto& retries = j->retries.edit();
        retries.attempt = static_cast<unsigned>(row.attempt);
        retries.attempts = jobs::attempts_from_json(parse_or_null(row.attempts));
        retries.next_attempt = from_ns(row.next_attempt_ns);
        retries.output_from = static_cast<std::uint64_t>(row.output_from);
    }
    j->log = make_log(row, *j, executor);
    if (j->retries && jobs::is_pending(j->state) && j->log->end_offset() == 0) {
        // A fresh log (its file was not there to go on from): the earlier attempts' ranges mean nothing.
        auto& retries = j->retries.edit();
        retries.output_from = 0;
        for (auto& a : retries.attempts) {
            a.output_from = a.output_to = 0;
        }
    }
    return j;
}

}  // namespace corral::store
