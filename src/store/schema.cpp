#include "schema.hpp"

#include <array>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace corral::store {
namespace {

// Migration N takes the database from version N to N + 1. Append only: never edit a released one.
constexpr std::array<std::string_view, 2> migrations = {
    // 0 → 1: jobs (spec, state, task run and result, where the output file is), the audit trail,
    // and counters that must outlive the rows (ids are never reused).
    R"sql(
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    owner           TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    created_ns      INTEGER NOT NULL,
    started_ns      INTEGER,
    finished_ns     INTEGER,
    queue_seq       INTEGER NOT NULL,
    priority        INTEGER NOT NULL,
    grp             TEXT    NOT NULL,
    spec            TEXT    NOT NULL,
    task            TEXT    NOT NULL,
    args            TEXT    NOT NULL,
    result          TEXT    NOT NULL,
    progress        REAL,
    exit            TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    pid             INTEGER NOT NULL,
    idempotency_key TEXT    NOT NULL,
    output_file     TEXT    NOT NULL,
    output_first    INTEGER NOT NULL,
    output_file_pos INTEGER NOT NULL,
    output_end      INTEGER NOT NULL
);
CREATE INDEX jobs_by_state ON jobs(state);
CREATE TABLE audit (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ns INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    job     INTEGER NOT NULL,
    detail  TEXT    NOT NULL
);
CREATE INDEX audit_by_job ON audit(job);
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters VALUES ('next_job_id', 1);
)sql",
    // 1 → 2: retries (the attempt running now, the attempts before it, when the next one starts,
    // where this attempt's output begins) and schedules (their last runs, for catch-up; those
    // added at run time).
    R"sql(
ALTER TABLE jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN attempts TEXT NOT NULL DEFAULT '[]';
ALTER TABLE jobs ADD COLUMN next_attempt_ns INTEGER;
ALTER TABLE jobs ADD COLUMN output_from INTEGER NOT NULL DEFAULT 0;
CREATE TABLE schedules (
    name        TEXT PRIMARY KEY,
    definition  TEXT NOT NULL,
    added       INTEGER NOT NULL,
    last_run_ns INTEGER
);
)sql",
};

int user_version(database& db) {
    statement s(db.handle(), "PRAGMA user_version");
    return s.step() ? static_cast<int>(s.integer(0)) : 0;
}

}  // namespace

int schema_version() {
    return static_cast<int>(migrations.size());
}

void migrate(database& db) {
    const int found = user_version(db);
    if (found > schema_version()) {
        throw sqlite_error(
            fmt::format("the database has schema version {}, from a newer corral; this one knows up to {}",
                        found,
                        schema_version()));
    }
    for (int v = found; v < schema_version(); ++v) {
        db.exec("BEGIN IMMEDIATE");
        try {
            db.exec(migrations[static_cast<std::size_t>(v)]);
            db.exec(fmt::format("PRAGMA user_version = {}", v + 1));
            db.exec("COMMIT");
        } catch (...) {
            db.exec("ROLLBACK");
            throw;
        }
        spdlog::info("store: schema migrated to version {}", v + 1);
    }
}

}  // namespace corral::store
