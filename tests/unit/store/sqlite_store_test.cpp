// The SQLite store on a real database file: what it writes reads back whole, commits are durable
// when flush() says so, and the schema is versioned.
#include "corral/store/sqlite_store.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "corral/jobs/job_spec_json.hpp"
#include "helpers/test_support.hpp"

namespace corral::store {
namespace {

using test::run_coro;

std::unique_ptr<sqlite_store> open_store(net::io_context& ioc, const test::temp_dir& dir) {
    auto s = sqlite_store::open(ioc.get_executor(),
                                {.path = dir.file("corral.db"), .output_dir = dir.path().string()});
    if (!s) {
        throw std::runtime_error(s.error().what());
    }
    return std::move(*s);
}

void flush(net::io_context& ioc, sqlite_store& s) {
    auto r = run_coro(ioc, s.flush());
    ASSERT_TRUE(r) << r.error().what();
}

/// Counts rows in a copy of the files as they are on disk now: what a restart after a crash would find.
/// (A copy, because the store holds its database exclusively while it is open.)
std::int64_t count_rows(const std::string& db, const std::string& table) {
    test::temp_dir copy;
    std::filesystem::copy_file(db, copy.file("copy.db"));
    if (std::filesystem::exists(db + "-wal")) {
        std::filesystem::copy_file(db + "-wal", copy.file("copy.db-wal"));
    }
    sqlite3* h = nullptr;
    sqlite3_open_v2(copy.file("copy.db").c_str(), &h, SQLITE_OPEN_READWRITE, nullptr);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(h, ("SELECT count(*) FROM " + table).c_str(), -1, &s, nullptr);
    std::int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    sqlite3_close(h);
    return n;
}

jobs::job finished_task_job(net::io_context& ioc, const std::string& output_file) {
    jobs::job j;
    j.id = 7;
    j.owner = "alice";
    j.spec.process.argv = {"printf", "a b"};
    j.spec.process.cwd = "/tmp";
    j.spec.process.env.set("A", "1").unset("B");
    j.spec.process.input = proc::input_mode::pipe;
    j.spec.process.limits.open_files = 64;
    j.spec.timeout = std::chrono::milliseconds(1500);
    j.spec.stop = *proc::stop_plan::parse("INT:2s,KILL");
    j.spec.output.cap = 1000;
    j.spec.labels = {{"corral.parent", "3"}, {"x", "y"}};
    j.spec.priority = 2;
    j.spec.group = "db";
    j.state = jobs::job_state::failed;
    j.created = jobs::clock::now() - std::chrono::seconds(3);
    j.started = j.created + std::chrono::seconds(1);
    j.finished = j.created + std::chrono::seconds(2);
    j.exit = proc::exit_status(proc::signaled{9, true});
    j.reason = "killed by signal KILL";
    j.pid = 4242;
    j.task = "say";
    j.args = boost::json::object{{"text", "0"}};
    j.result = boost::json::parse(R"({"n": [1, 2]})");
    j.progress = 0.5;
    j.queue_seq = 11;
    j.idempotency_key = "key-1";
    j.log = std::move(*output::output_log::create(ioc.get_executor(), {.spill_file = output_file}));
    j.log->append(output::stream::out, "hello\n");
    j.log->append(output::stream::err, "oops\n");
    j.log->close();
    return j;
}

TEST(SqliteStore, AJobReadsBackWithEveryFieldAndItsOutput) {
    test::temp_dir dir;
    net::io_context ioc;
    {
        auto s = open_store(ioc, dir);
        auto j = finished_task_job(ioc, s->output_file(7));
        s->save(j);
        flush(ioc, *s);
    }
    auto s = open_store(ioc, dir);
    auto loaded = s->take_loaded();
    ASSERT_EQ(loaded.jobs.size(), 1u);
    EXPECT_EQ(loaded.next_id, 8u);
    const auto& back = *loaded.jobs[0];
    auto original = finished_task_job(ioc, dir.file("again.out"));
    EXPECT_EQ(back.id, 7u);
    EXPECT_EQ(back.owner, "alice");
    EXPECT_EQ(jobs::spec_to_json(back.spec), jobs::spec_to_json(original.spec));
    EXPECT_EQ(back.state, jobs::job_state::failed);
    ASSERT_TRUE(back.started && back.finished);
    EXPECT_EQ(*back.started - back.created, std::chrono::seconds(1));
    EXPECT_EQ(*back.finished - *back.started, std::chrono::seconds(1));
    EXPECT_EQ(back.exit, original.exit);
    EXPECT_EQ(back.reason, original.reason);
    EXPECT_EQ(back.pid, 4242);
    EXPECT_EQ(back.task, "say");
    EXPECT_EQ(back.args, original.args);
    EXPECT_EQ(back.result, original.result);
    EXPECT_EQ(back.progress, 0.5);
    EXPECT_EQ(back.queue_seq, 11u);
    EXPECT_EQ(back.idempotency_key, "key-1");
    ASSERT_TRUE(back.log && back.log->closed());
    auto out = back.log->read(0);
    ASSERT_EQ(out.records.size(), 2u);
    EXPECT_EQ(out.records[0].bytes, "hello\n");
    EXPECT_EQ(out.records[1].source, output::stream::err);
    EXPECT_EQ(out.records[1].bytes, "oops\n");
}

/// A queued `true` job with an empty log.
jobs::job queued_job(net::io_context& ioc, jobs::job_id id) {
    jobs::job j;
    j.id = id;
    j.spec.process.argv = {"true"};
    j.log = std::move(*output::output_log::create(ioc.get_executor()));
    return j;
}

TEST(SqliteStore, FlushReturnsOnceTheRowsAreOnDisk) {
    test::temp_dir dir;
    net::io_context ioc;
    auto s = open_store(ioc, dir);
    for (jobs::job_id id = 1; id <= 500; ++id) {
        auto j = queued_job(ioc, id);
        s->save(j);
        s->audit({jobs::clock::now(), "alice", "submit", id, "true"});
    }
    flush(ioc, *s);
    // Another connection, as another process after a crash would, sees every row.
    EXPECT_EQ(count_rows(dir.file("corral.db"), "jobs"), 500);
    EXPECT_EQ(count_rows(dir.file("corral.db"), "audit"), 500);
    EXPECT_EQ(s->stats().writes, 1000u);
    EXPECT_EQ(s->stats().failures, 0u);
}

/// Makes every commit that writes job `a` or `b` fail, as a full disk or an I/O error would.
void inject_commit_failures(const std::string& db, jobs::job_id a, jobs::job_id b) {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    const auto sql = "CREATE TRIGGER injected BEFORE INSERT ON jobs WHEN NEW.id IN (" + std::to_string(a) +
                     ", " + std::to_string(b) + ") BEGIN SELECT RAISE(ABORT, 'injected failure'); END";
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(h);
}

TEST(SqliteStore, ARecordInAFailedCommitStaysFailedWhateverFailsOrSucceedsAfterIt) {
    test::temp_dir dir;
    net::io_context ioc;
    open_store(ioc, dir).reset();  // makes the schema
    inject_commit_failures(dir.file("corral.db"), 2, 3);
    auto s = open_store(ioc, dir);
    const auto second = s->save(queued_job(ioc, 2));
    auto r2 = run_coro(ioc, s->flush(second));
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error().code, errc::store_failed);
    EXPECT_NE(r2.error().what().find("injected failure"), std::string::npos) << r2.error().what();
    const auto third = s->save(queued_job(ioc, 3));
    EXPECT_FALSE(run_coro(ioc, s->flush(third)));
    const auto fourth = s->save(queued_job(ioc, 4));
    EXPECT_TRUE(run_coro(ioc, s->flush(fourth)));
    // Two failed commits and a good one later, the first is still not durable (the store used to
    // remember only the last failed batch, and a waiter on the first then heard "committed").
    EXPECT_FALSE(run_coro(ioc, s->flush(second)));
    EXPECT_FALSE(run_coro(ioc, s->flush(third)));
    EXPECT_EQ(s->stats().failures, 2u);
    s.reset();
    EXPECT_EQ(count_rows(dir.file("corral.db"), "jobs"), 1);
}

TEST(SqliteStore, ABadRecordFailsAloneNotTheRecordsBatchedWithIt) {
    // Records queued together are committed together; when one of them cannot be written, the others
    // must not be reported failed with it (their submitters would be told "could not be recorded").
    test::temp_dir dir;
    net::io_context ioc;
    open_store(ioc, dir).reset();
    inject_commit_failures(dir.file("corral.db"), 100, 100);
    auto s = open_store(ioc, dir);
    std::vector<std::pair<jobs::job_id, std::uint64_t>> saved;
    for (jobs::job_id id = 1; id <= 200; ++id) {  // faster than commits: they meet in batches
        saved.emplace_back(id, s->save(queued_job(ioc, id)));
    }
    for (const auto& [id, seq] : saved) {
        const auto r = run_coro(ioc, s->flush(seq));
        EXPECT_EQ(static_cast<bool>(r), id != 100) << "job " << id;
    }
    EXPECT_EQ(s->stats().failures, 1u);
    EXPECT_GT(s->stats().retried, 1u) << "job 100 met no other record in a batch: nothing was tested";
    s.reset();
    EXPECT_EQ(count_rows(dir.file("corral.db"), "jobs"), 199);
}

TEST(SqliteStore, RowsOfOneJobSavedInARowLeaveTheLastAndTheIdCounterCoversEveryJob) {
    // The writer writes only the last of a job's rows that meet in one batch, and updates the id
    // counter only when a job's id passes it: the state read back must still be the newest, and the
    // counter must be past every job saved, in whatever order the ids came.
    test::temp_dir dir;
    net::io_context ioc;
    {
        auto s = open_store(ioc, dir);
        auto j = queued_job(ioc, 5);
        j.spec.process.argv = {"sleep", "5"};
        j.spec.priority = 2;
        s->save(j);  // queued
        s->starting(j);
        j.state = jobs::job_state::running;
        j.pid = 99;
        s->save_state(j);
        j.state = jobs::job_state::succeeded;
        j.exit = proc::exit_status(proc::exited{0});
        s->save_state(j);
        s->save(queued_job(ioc, 3));
        flush(ioc, *s);
    }
    auto s = open_store(ioc, dir);
    auto loaded = s->take_loaded();
    ASSERT_EQ(loaded.jobs.size(), 2u);
    EXPECT_EQ(loaded.next_id, 6u);
    const auto& five = loaded.jobs[0]->id == 5 ? *loaded.jobs[0] : *loaded.jobs[1];
    EXPECT_EQ(five.state, jobs::job_state::succeeded);
    EXPECT_EQ(five.pid, 99);
    // The spec reads back as it was saved.
    EXPECT_EQ(five.spec.process.argv, (std::vector<std::string>{"sleep", "5"}));
    EXPECT_EQ(five.spec.priority, 2);
    EXPECT_EQ(count_rows(dir.file("corral.db"), "jobs"), 2);
}

TEST(SqliteStore, AJobWhoseWholeRecordFailedGetsAWholeOneWithItsNextRecord) {
    // A state record only updates the job's row: when the commit of its whole row failed there is no
    // row to update, so the store makes the job's next record whole again, and the job is not lost.
    test::temp_dir dir;
    net::io_context ioc;
    open_store(ioc, dir).reset();
    {
        sqlite3* h = nullptr;
        ASSERT_EQ(sqlite3_open_v2(dir.file("corral.db").c_str(), &h, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(h,
                               "CREATE TRIGGER injected BEFORE INSERT ON jobs WHEN NEW.state = 'queued' "
                               "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
                               nullptr,
                               nullptr,
                               nullptr),
                  SQLITE_OK);
        sqlite3_close(h);
    }
    {
        auto s = open_store(ioc, dir);
        auto j = queued_job(ioc, 2);
        j.owner = "bob";
        EXPECT_FALSE(run_coro(ioc, s->flush(s->save(j))));
        EXPECT_EQ(count_rows(dir.file("corral.db"), "jobs"), 0);
        j.state = jobs::job_state::running;
        EXPECT_TRUE(run_coro(ioc, s->flush(s->save_state(j))));  // whole again: there is no row to update
        EXPECT_EQ(count_rows(dir.file("corral.db"), "jobs"), 1);
        j.state = jobs::job_state::succeeded;
        EXPECT_TRUE(run_coro(ioc, s->flush(s->save_state(j))));  // an update of that row
    }
    auto s = open_store(ioc, dir);
    auto loaded = s->take_loaded();
    ASSERT_EQ(loaded.jobs.size(), 1u);
    EXPECT_EQ(loaded.jobs[0]->state, jobs::job_state::succeeded);
    EXPECT_EQ(loaded.jobs[0]->owner, "bob");
    EXPECT_EQ(loaded.jobs[0]->spec.process.argv, (std::vector<std::string>{"true"}));
}

TEST(SqliteStore, ForgetDeletesTheRowAndTheOutputFile) {
    test::temp_dir dir;
    net::io_context ioc;
    auto s = open_store(ioc, dir);
    auto j = finished_task_job(ioc, s->output_file(7));
    s->save(j);
    flush(ioc, *s);
    ASSERT_TRUE(std::filesystem::exists(s->output_file(7)));
    s->forget(j);
    flush(ioc, *s);
    EXPECT_EQ(count_rows(dir.file("corral.db"), "jobs"), 0);
    EXPECT_FALSE(std::filesystem::exists(s->output_file(7)));
}

// The audit trail's paging and filter: JournalContract.TheAuditTrailPagesNewestFirstAndFiltersByJob
// (journal_contract_test.cpp), for this store and every other backend.

TEST(SqliteStore, ASecondStoreOnTheSameDatabaseIsRefusedWithAClearError) {
    // Two corralds on one state directory would both resume the same queued jobs.
    test::temp_dir dir;
    net::io_context ioc;
    auto first = open_store(ioc, dir);
    auto second = sqlite_store::open(ioc.get_executor(), {.path = dir.file("corral.db")});
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, make_error_code(errc::store_failed));
    EXPECT_NE(second.error().message.find("another corrald is using this state directory"), std::string::npos)
        << second.error().message;
    first.reset();
    EXPECT_TRUE(sqlite_store::open(ioc.get_executor(), {.path = dir.file("corral.db")}));  // let go at close
}

TEST(SqliteStore, ADatabaseFromANewerCorralIsRefusedWithAClearError) {
    test::temp_dir dir;
    net::io_context ioc;
    open_store(ioc, dir);  // creates it at our version
    sqlite3* h = nullptr;
    sqlite3_open(dir.file("corral.db").c_str(), &h);
    sqlite3_exec(h, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(h);
    auto s = sqlite_store::open(ioc.get_executor(), {.path = dir.file("corral.db")});
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, make_error_code(errc::store_failed));
    EXPECT_NE(s.error().message.find("schema version 99"), std::string::npos) << s.error().message;
}

TEST(SqliteStore, AFileThatIsNotADatabaseIsAClearError) {
    test::temp_dir dir;
    net::io_context ioc;
    {
        std::ofstream(dir.file("corral.db"))
            << "this is not SQLite, just some text that is long enough to matter\n";
    }
    auto s = sqlite_store::open(ioc.get_executor(), {.path = dir.file("corral.db")});
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find(dir.file("corral.db")), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("not a database"), std::string::npos) << s.error().message;
}

TEST(JobSpecJson, ADamagedSpecNamesTheField) {
    auto spec = jobs::spec_from_json(boost::json::parse(R"({"process": {"argv": []}})"));
    ASSERT_FALSE(spec);
    EXPECT_NE(spec.error().message.find("'shell' is missing"), std::string::npos) << spec.error().message;
}

}  // namespace
}  // namespace corral::store
