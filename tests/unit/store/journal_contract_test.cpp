// What every store backend promises through jobs::job_journal, the one interface the job service and
// the daemon use: the same tests against the memory store and the SQLite store (a real file). A
// backend added later (PostgreSQL) joins the list below.
#include <functional>
#include <memory>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "corral/jobs/job_journal.hpp"
#include "corral/jobs/job_spec_json.hpp"
#include "corral/services/job_service.hpp"
#include "corral/store/memory_store.hpp"
#include "corral/store/sqlite_store.hpp"
#include "helpers/test_support.hpp"

namespace corral::store {
namespace {

using test::run_coro;

struct backend {
    std::string name;
    /// Opens the backend on `dir`; `again` is the one opened before, for a backend whose memory is
    /// the instance itself (it is kept, as a database file would be).
    std::function<std::unique_ptr<jobs::job_journal>(net::io_context&, const test::temp_dir&,
                                                     std::unique_ptr<jobs::job_journal> again)>
        open;
};

std::string backend_name(const ::testing::TestParamInfo<backend>& info) {
    return info.param.name;
}

class JournalContract : public ::testing::TestWithParam<backend> {
  protected:
    void SetUp() override { journal_ = GetParam().open(ioc_, dir_, nullptr); }
    /// What a restart finds: everything committed so far, read back by a fresh open.
    jobs::loaded_state reopen() {
        auto flushed = run_coro(ioc_, journal_->flush());
        EXPECT_TRUE(flushed) << flushed.error().what();
        if (GetParam().name == "Sqlite") {
            journal_.reset();  // the database is held exclusively: close before opening again
        }
        journal_ = GetParam().open(ioc_, dir_, std::move(journal_));
        return journal_->take_loaded();
    }

    net::io_context ioc_;
    test::temp_dir dir_;
    std::unique_ptr<jobs::job_journal> journal_;
};

jobs::job make_job(net::io_context& ioc, jobs::job_id id, jobs::job_state state) {
    jobs::job j;
    j.id = id;
    j.owner = "alice";
    j.spec.process.argv = {"printf", "a b"};
    j.spec.labels = {{"x", "y"}};
    j.spec.priority = 2;
    j.spec.group = "db";
    j.state = state;
    j.created = jobs::clock::now();
    j.queue_seq = id;
    j.task = "say";
    j.args = boost::json::object{{"text", "0"}};
    j.idempotency_key = "key-" + std::to_string(id);
    if (jobs::is_finished(state)) {
        j.started = j.created;
        j.finished = j.created;
        j.exit = proc::exit_status(proc::exited{3});
        j.reason = "exited with code 3";
        j.result = boost::json::parse(R"({"n": 1})");
    }
    j.log = std::move(*output::output_log::create(ioc.get_executor()));
    return j;
}

TEST_P(JournalContract, EveryRecordReadsBackAsItWasLastSavedOldestFirst) {
    auto queued = make_job(ioc_, 3, jobs::job_state::queued);
    auto done = make_job(ioc_, 4, jobs::job_state::failed);
    journal_->save(queued);
    journal_->save(done);
    done.reason = "exited with code 3 (saved again)";
    journal_->save(done);
    auto loaded = reopen();
    ASSERT_EQ(loaded.jobs.size(), 2u);
    EXPECT_EQ(loaded.next_id, 5u);
    const auto& a = *loaded.jobs[0];
    const auto& b = *loaded.jobs[1];
    EXPECT_EQ(a.id, 3u);
    EXPECT_EQ(a.state, jobs::job_state::queued);
    EXPECT_EQ(a.owner, "alice");
    EXPECT_EQ(jobs::spec_to_json(a.spec), jobs::spec_to_json(queued.spec));
    EXPECT_EQ(a.idempotency_key, "key-3");
    EXPECT_EQ(a.task, "say");
    EXPECT_EQ(a.args, queued.args);
    EXPECT_EQ(b.id, 4u);
    EXPECT_EQ(b.state, jobs::job_state::failed);
    EXPECT_EQ(b.reason, "exited with code 3 (saved again)");
    EXPECT_EQ(b.exit, done.exit);
    EXPECT_EQ(b.result, done.result);
    ASSERT_TRUE(b.log);
    EXPECT_TRUE(b.log->closed());  // a finished job's log is complete
}

TEST_P(JournalContract, AStateRecordChangesWhatChangesAndKeepsTheSubmittedRest) {
    // Job 1's state record is committed after its whole one; job 2's meet in one batch (the writer
    // merges them). Either way the spec, owner, task and arguments read back as submitted.
    auto first = make_job(ioc_, 1, jobs::job_state::queued);
    journal_->save(first);
    ASSERT_TRUE(run_coro(ioc_, journal_->flush()));
    auto second = make_job(ioc_, 2, jobs::job_state::queued);
    journal_->save(second);
    for (auto* j : {&first, &second}) {
        j->state = jobs::job_state::failed;
        j->started = j->finished = jobs::clock::now();
        j->exit = proc::exit_status(proc::exited{3});
        j->reason = "exited with code 3";
        j->result = boost::json::parse(R"({"n": 2})");
        j->pid = 77;
        j->retries.edit().attempt = 2;
        j->retries.edit().next_attempt = j->finished;
        journal_->save_state(*j);
    }
    auto loaded = reopen();
    ASSERT_EQ(loaded.jobs.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        const auto& back = *loaded.jobs[i];
        const auto& sent = i == 0 ? first : second;
        SCOPED_TRACE(back.id);
        EXPECT_EQ(back.id, i + 1);
        EXPECT_EQ(back.state, jobs::job_state::failed);
        EXPECT_EQ(back.reason, "exited with code 3");
        EXPECT_EQ(back.exit, sent.exit);
        EXPECT_EQ(back.result, sent.result);
        EXPECT_EQ(back.pid, 77);
        EXPECT_EQ(back.retries.get().attempt, 2u);
        EXPECT_EQ(back.owner, "alice");
        EXPECT_EQ(jobs::spec_to_json(back.spec), jobs::spec_to_json(sent.spec));
        EXPECT_EQ(back.task, "say");
        EXPECT_EQ(back.args, sent.args);
        EXPECT_EQ(back.idempotency_key, sent.idempotency_key);
    }
}

TEST_P(JournalContract, AJobAboutToStartReadsBackAsRunningSoARestartCountsItLost) {
    auto j = make_job(ioc_, 1, jobs::job_state::queued);
    journal_->save(j);  // its submission
    auto seq = journal_->starting(j);
    auto committed = run_coro(ioc_, journal_->flush(seq));
    ASSERT_TRUE(committed) << committed.error().what();
    auto loaded = reopen();
    ASSERT_EQ(loaded.jobs.size(), 1u);
    EXPECT_EQ(loaded.jobs[0]->state, jobs::job_state::running);
}

TEST_P(JournalContract, AForgottenJobDoesNotComeBackAndItsIdIsNotGivenAgain) {
    auto kept = make_job(ioc_, 1, jobs::job_state::succeeded);
    auto gone = make_job(ioc_, 2, jobs::job_state::succeeded);
    journal_->save(kept);
    journal_->save(gone);
    journal_->forget(gone);
    auto loaded = reopen();
    ASSERT_EQ(loaded.jobs.size(), 1u);
    EXPECT_EQ(loaded.jobs[0]->id, 1u);
    EXPECT_EQ(loaded.next_id, 3u);
}

TEST_P(JournalContract, TheAuditTrailPagesNewestFirstAndFiltersByJob) {
    const auto now = jobs::clock::now();
    for (int i = 1; i <= 5; ++i) {
        journal_->audit({now, "alice", i % 2 ? "submit" : "kill", static_cast<jobs::job_id>(i % 2 ? 1 : 2),
                         "entry " + std::to_string(i)});
    }
    auto first = run_coro(ioc_, journal_->audit_trail(0, 2, 0));
    ASSERT_TRUE(first) << first.error().what();
    ASSERT_EQ(first->entries.size(), 2u);
    EXPECT_EQ(first->entries[0].detail, "entry 5");
    EXPECT_EQ(first->entries[1].detail, "entry 4");
    ASSERT_NE(first->next, 0);
    auto second = run_coro(ioc_, journal_->audit_trail(0, 10, first->next));
    ASSERT_TRUE(second);
    ASSERT_EQ(second->entries.size(), 3u);
    EXPECT_EQ(second->entries[0].detail, "entry 3");
    EXPECT_EQ(second->next, 0);  // no more
    auto job2 = run_coro(ioc_, journal_->audit_trail(2, 10, 0));
    ASSERT_TRUE(job2);
    ASSERT_EQ(job2->entries.size(), 2u);
    EXPECT_EQ(job2->entries[0].detail, "entry 4");
    EXPECT_EQ(job2->entries[1].detail, "entry 2");
    EXPECT_EQ(job2->entries[0].action, "kill");
    EXPECT_EQ(job2->entries[0].actor, "alice");
}

TEST_P(JournalContract, AJobServiceRestartedOnItResumesTheQueuedJobsInOrder) {
    auto request = [](std::string word) {
        services::submit_request r;
        r.owner = "alice";
        r.spec.process.argv = {"echo", std::move(word)};
        return r;
    };
    {
        auto before = services::job_service::create(ioc_.get_executor(), {.concurrency = 1}).value();
        before->set_journal(journal_.get());
        before->set_draining(true);  // they stay queued, as at a shutdown with a store
        ASSERT_TRUE(before->submit(request("first")));
        ASSERT_TRUE(before->submit(request("second")));
        auto flushed = run_coro(ioc_, before->flush());
        ASSERT_TRUE(flushed) << flushed.error().what();
        before->set_journal(nullptr);
    }
    auto loaded = reopen();
    auto after = services::job_service::create(ioc_.get_executor(), {.concurrency = 1}).value();
    after->set_journal(journal_.get());
    after->set_draining(true);
    auto report = after->restore(std::move(loaded.jobs), loaded.next_id, [](std::string_view) { return nullptr; });
    EXPECT_EQ(report.resumed, 2u);
    EXPECT_EQ(after->queued(), 2u);
    const auto waiting = after->scheduler().snapshot(10);
    ASSERT_EQ(waiting.size(), 2u);
    EXPECT_EQ(after->find(waiting[0].id)->spec.process.argv.back(), "first");
    EXPECT_EQ(after->find(waiting[1].id)->spec.process.argv.back(), "second");
    auto next = after->submit(request("third"));
    ASSERT_TRUE(next);
    EXPECT_EQ((*next)->id, 3u);  // ids go on after the restored ones
    after->set_journal(nullptr);
}

TEST_P(JournalContract, ItSaysWhatItIs) {
    EXPECT_FALSE(journal_->describe().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Backends,
    JournalContract,
    ::testing::Values(
        backend{"Memory",
                [](net::io_context& ioc, const test::temp_dir&, std::unique_ptr<jobs::job_journal> again)
                    -> std::unique_ptr<jobs::job_journal> {
                    return again ? std::move(again) : std::make_unique<memory_store>(ioc.get_executor());
                }},
        backend{"Sqlite",
                [](net::io_context& ioc, const test::temp_dir& dir, std::unique_ptr<jobs::job_journal>)
                    -> std::unique_ptr<jobs::job_journal> {
                    auto s = sqlite_store::open(ioc.get_executor(),
                                                {.path = dir.file("corral.db"), .output_dir = dir.path().string()});
                    if (!s) {
                        throw std::runtime_error(s.error().what());
                    }
                    return std::move(*s);
                }}),
    backend_name);

}  // namespace
}  // namespace corral::store
