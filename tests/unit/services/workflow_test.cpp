// Workflows in the job service (workflow.cpp): jobs that wait for others and jobs that are retried.
// Real processes, real timers; times are read from the jobs' records, never asserted against a clock.
#include <cstdio>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "corral/jobs/workflow_json.hpp"
#include "corral/services/job_service.hpp"
#include "helpers/test_support.hpp"

namespace corral::services {
namespace {

using namespace std::chrono_literals;
using jobs::job_state;

struct Workflows : ::testing::Test {
    net::io_context ioc;
    std::unique_ptr<job_service> service = job_service::create(ioc.get_executor(), {.concurrency = 4}).value();

    ~Workflows() override { test::run_coro(ioc, service->drain(std::chrono::steady_clock::now() + 5s)); }

    submit_request command(std::vector<std::string> argv) {
        submit_request r;
        r.owner = "ann";
        r.spec.process.argv = std::move(argv);
        return r;
    }
    jobs::job& submit(submit_request r) { return *service->submit(std::move(r)).value(); }
    jobs::job& after(std::vector<jobs::job_id> ok, std::vector<std::string> argv = {"true"}) {
        auto r = command(std::move(argv));
        r.spec.workflow.edit().after_ok = std::move(ok);
        return submit(std::move(r));
    }
    void wait_end(jobs::job_id id) {
        ASSERT_TRUE(test::run_coro(ioc, service->wait_finished(id, 30s))) << "job " << id << " did not end";
    }
    std::string output_of(const jobs::job& j, std::uint64_t from, std::uint64_t to) {
        std::string out;
        auto slice = test::run_coro(ioc, j.log->read_async(from, to - from));
        for (const auto& r : slice.records) {
            out += r.bytes;
        }
        return out.substr(0, to - from);
    }
};

TEST_F(Workflows, AChainRunsInOrderEachStartingOnlyOnceTheOneBeforeHasSucceeded) {
    auto& a = submit(command({"sleep", "0.2"}));
    auto& b = after({a.id});
    auto& c = after({b.id});
    EXPECT_EQ(b.state, job_state::waiting);
    EXPECT_EQ(c.state, job_state::waiting);
    wait_end(c.id);
    for (auto* j : {&a, &b, &c}) {
        EXPECT_EQ(j->state, job_state::succeeded) << j->id << ": " << j->reason;
    }
    EXPECT_GE(*b.started, *a.finished);
    EXPECT_GE(*c.started, *b.finished);
}

TEST_F(Workflows, FanInWaitsForEveryDependency) {
    auto& quick = submit(command({"true"}));
    auto& slow = submit(command({"sleep", "0.3"}));
    auto r = command({"true"});
    r.spec.workflow.edit().after_ok = {quick.id};
    r.spec.workflow.edit().after_any = {slow.id};
    auto& joined = submit(std::move(r));
    wait_end(quick.id);
    EXPECT_EQ(joined.state, job_state::waiting) << "one of its two dependencies is still running";
    wait_end(joined.id);
    EXPECT_EQ(joined.state, job_state::succeeded);
    EXPECT_GE(*joined.started, *slow.finished);
}

TEST_F(Workflows, AFailedDependencyFailsItsDependentsDownTheChainButNotAnAfterAnyOne) {
    auto& bad = submit(command({"sh", "-c", "exit 3"}));
    auto& dependent = after({bad.id});
    auto& second = after({dependent.id});
    auto any = command({"true"});
    any.spec.workflow.edit().after_any = {bad.id};
    auto& regardless = submit(std::move(any));
    wait_end(second.id);
    wait_end(regardless.id);
    EXPECT_EQ(dependent.state, job_state::failed);
    EXPECT_FALSE(dependent.started) << "it never ran";
    EXPECT_NE(dependent.reason.find("job " + std::to_string(bad.id) + ", which it runs after, ended failed"),
              std::string::npos)
        << dependent.reason;
    EXPECT_EQ(second.state, job_state::failed);
    EXPECT_NE(second.reason.find("job " + std::to_string(dependent.id)), std::string::npos) << second.reason;
    EXPECT_EQ(regardless.state, job_state::succeeded);
    // Submitted after its dependency failed, a job fails at once, for the same reason.
    auto& late = after({bad.id});
    EXPECT_EQ(late.state, job_state::failed);
    EXPECT_NE(late.reason.find("ended failed"), std::string::npos);
}

TEST_F(Workflows, AKilledDependencyFailsItsDependentAndAKilledWaitingJobNeverRuns) {
    auto& sleeper = submit(command({"sleep", "30"}));
    auto& dependent = after({sleeper.id});
    auto& other = after({sleeper.id});
    ASSERT_TRUE(service->kill(other, std::nullopt, std::nullopt));
    EXPECT_EQ(other.state, job_state::killed);
    EXPECT_NE(other.reason.find("waited for the jobs it runs after"), std::string::npos) << other.reason;
    ASSERT_TRUE(test::run_coro(ioc, service->wait_started(sleeper.id, 10s)));
    ASSERT_TRUE(service->kill(sleeper, std::nullopt, std::nullopt));
    wait_end(dependent.id);
    EXPECT_EQ(dependent.state, job_state::failed);
    EXPECT_NE(dependent.reason.find("ended killed"), std::string::npos) << dependent.reason;
}

TEST_F(Workflows, UnknownAndNotYetSubmittedIdsAreRefusedSoNoCycleCanForm) {
    auto r = command({"true"});
    r.spec.workflow.edit().after_ok = {service->all().size() + 50};
    auto future = service->submit(std::move(r));
    ASSERT_FALSE(future);
    EXPECT_EQ(future.error().code, errc::invalid_spec);
    EXPECT_NE(future.error().what().find("never form a cycle"), std::string::npos) << future.error().what();
    EXPECT_EQ(service->all().size(), 0u) << "nothing was queued";
}

TEST_F(Workflows, AThousandDependentsOfOneJobAllRunWhenItEnds) {
    auto& head = submit(command({"true"}));
    std::vector<jobs::job*> waiting;
    service->set_draining(true);  // they are released by the head, but run one slot at a time later
    for (int i = 0; i < 1000; ++i) {
        waiting.push_back(&after({head.id}));
    }
    service->set_draining(false);
    wait_end(head.id);
    for (auto* j : waiting) {
        EXPECT_NE(j->state, job_state::waiting);
    }
    wait_end(waiting.back()->id);
    EXPECT_EQ(waiting.back()->state, job_state::succeeded);
}

jobs::retry_policy retry(unsigned attempts, std::chrono::milliseconds backoff, std::vector<std::string> on = {"failed", "timed_out"}) {
    boost::json::array states;
    for (auto& s : on) {
        states.emplace_back(s);
    }
    auto p = jobs::retry_from_json(boost::json::object{{"attempts", attempts},
                                                       {"backoff", fmt::format("{}ms", backoff.count())},
                                                       {"jitter", 0},
                                                       {"on", std::move(states)}});
    return p.value();
}

TEST_F(Workflows, AFailingJobIsRetriedUpToItsAttemptsWithGrowingBackoffAndEndsAsItsLastAttempt) {
    auto sub = service->subscribe_as({"ann", std::make_shared<const auth::role_policy>(auth::role_policy{.admin = true})}).value();
    sub->follow_all(true);
    auto r = command({"sh", "-c", "echo try; exit 2"});
    r.spec.workflow.edit().retry = retry(3, 100ms);
    auto& j = submit(std::move(r));
    wait_end(j.id);
    EXPECT_EQ(j.state, job_state::failed);
    EXPECT_EQ(j.retries.get().attempt, 3u);
    ASSERT_EQ(j.retries.get().attempts.size(), 2u);
    EXPECT_EQ(j.retries.get().attempts[0].number, 1u);
    EXPECT_EQ(j.retries.get().attempts[0].state, job_state::failed);
    EXPECT_EQ(j.retries.get().attempts[0].exit->shell_code(), 2);
    // Backoff 100ms before attempt 2, doubled to 200ms before attempt 3 (no jitter), from the records.
    EXPECT_GE(*j.retries.get().attempts[1].started - *j.retries.get().attempts[0].finished, 100ms);
    EXPECT_GE(*j.started - *j.retries.get().attempts[1].finished, 200ms);
    // Each attempt's output is its own range of the log.
    EXPECT_EQ(output_of(j, j.retries.get().attempts[0].output_from, j.retries.get().attempts[0].output_to), "try\n");
    EXPECT_EQ(j.retries.get().attempts[1].output_from, j.retries.get().attempts[0].output_to);
    EXPECT_EQ(output_of(j, j.retries.get().output_from, j.log->end_offset()), "try\n");
    int retrying = 0, finished = 0, started = 0;
    for (const auto& e : sub->take().events) {
        retrying += e->kind == jobs::job_event::retrying;
        finished += e->kind == jobs::job_event::finished;
        started += e->kind == jobs::job_event::started;
    }
    EXPECT_EQ(retrying, 2);
    EXPECT_EQ(started, 3);
    EXPECT_EQ(finished, 1) << "it ends once, after its last attempt";
}

TEST_F(Workflows, ARetriedJobThatSucceedsStopsRetrying) {
    const auto marker = ::testing::TempDir() + "/retry-marker-" + std::to_string(::getpid());
    std::remove(marker.c_str());
    auto r = command({"sh", "-c", "test -e \"$1\" || { touch \"$1\"; exit 1; }", "sh", marker});
    r.spec.workflow.edit().retry = retry(5, 10ms);
    auto& j = submit(std::move(r));
    wait_end(j.id);
    EXPECT_EQ(j.state, job_state::succeeded);
    EXPECT_EQ(j.retries.get().attempt, 2u);
    EXPECT_EQ(j.retries.get().attempts.size(), 1u);
    std::remove(marker.c_str());
}

TEST_F(Workflows, AKillDuringTheBackoffStopsTheRetries) {
    auto r = command({"false"});
    r.spec.workflow.edit().retry = retry(5, 60s);
    auto& j = submit(std::move(r));
    while (j.state != job_state::retrying && !jobs::is_finished(j.state)) {
        ioc.run_one_for(100ms);
    }
    ASSERT_EQ(j.state, job_state::retrying);
    ASSERT_TRUE(j.retries.get().next_attempt);
    EXPECT_GE(*j.retries.get().next_attempt - *j.retries.get().attempts[0].finished, 40s) << "60s less at most 20% jitter... of 0";
    ASSERT_TRUE(service->kill(j, std::nullopt, std::nullopt));
    EXPECT_EQ(j.state, job_state::killed);
    EXPECT_NE(j.reason.find("waited to retry"), std::string::npos) << j.reason;
    EXPECT_EQ(j.retries.get().attempt, 1u);
    // Its timer went with it: the drain in the fixture's end does not wait 60 s.
}

TEST_F(Workflows, OnlyTheEndsNamedInOnAreRetried) {
    auto timed = command({"sleep", "10"});
    timed.spec.timeout = 100ms;
    timed.spec.workflow.edit().retry = retry(2, 10ms, {"failed"});
    auto& not_retried = submit(std::move(timed));
    auto timed2 = command({"sleep", "10"});
    timed2.spec.timeout = 100ms;
    timed2.spec.workflow.edit().retry = retry(2, 10ms, {"timed_out"});
    auto& retried = submit(std::move(timed2));
    wait_end(not_retried.id);
    wait_end(retried.id);
    EXPECT_EQ(not_retried.state, job_state::timed_out);
    EXPECT_EQ(not_retried.retries.get().attempt, 1u);
    EXPECT_EQ(retried.state, job_state::timed_out);
    EXPECT_EQ(retried.retries.get().attempt, 2u);
}

TEST_F(Workflows, ADependentWaitsForTheLastAttemptOfARetriedJob) {
    auto r = command({"false"});
    r.spec.workflow.edit().retry = retry(2, 10ms);
    auto& flaky = submit(std::move(r));
    auto& dependent = after({flaky.id});
    wait_end(dependent.id);
    EXPECT_EQ(flaky.retries.get().attempt, 2u);
    EXPECT_EQ(dependent.state, job_state::failed);
    EXPECT_GE(*dependent.finished, *flaky.finished);
}

TEST_F(Workflows, ACallerMayWaitOnlyForJobsTheyMaySeeAndSetAHookOnlyWithTheRightToRunCommands) {
    using role = std::shared_ptr<const auth::role_policy>;
    role user = std::make_shared<const auth::role_policy>(auth::role_policy{.name = "user", .commands = true});
    role tasks_only = std::make_shared<const auth::role_policy>(auth::role_policy{.name = "runner", .tasks = {"*"}});
    service->set_draining(true);
    auto& anns = submit(command({"true"}));
    auto bobs = command({"true"});
    bobs.spec.workflow.edit().after_ok = {anns.id};
    auto refused = test::run_coro(ioc, service->submit_as({"bob", user}, [&] {
        std::vector<submit_request> v;
        v.push_back(std::move(bobs));
        return v;
    }()));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().what(), "after: there is no job " + std::to_string(anns.id) + " (or its record is no longer kept)")
        << "the same answer as for a job that does not exist";
    auto own = command({"true"});
    own.spec.workflow.edit().after_ok = {anns.id};
    auto accepted = test::run_coro(ioc, service->submit_as({"ann", user}, [&] {
        std::vector<submit_request> v;
        v.push_back(std::move(own));
        return v;
    }()));
    ASSERT_TRUE(accepted) << accepted.error().what();
    EXPECT_EQ(accepted->jobs.front()->get().state, job_state::waiting);
    submit_request hooked;
    hooked.task = std::make_shared<const tasks::task_def>(tasks::task_def{.name = "t", .command = {"true"}});
    hooked.spec.process.argv = {"true"};
    hooked.spec.workflow.edit().on_finish = std::make_shared<const jobs::finish_hook>(jobs::finish_hook{.url = "http://127.0.0.1:9/"});
    hooked.hook_given = true;
    auto no_right = test::run_coro(ioc, service->submit_as({"carl", tasks_only}, [&] {
        std::vector<submit_request> v;
        v.push_back(std::move(hooked));
        return v;
    }()));
    ASSERT_FALSE(no_right);
    EXPECT_EQ(no_right.error().code, errc::forbidden);
    EXPECT_NE(no_right.error().what().find("may not set on_finish"), std::string::npos) << no_right.error().what();
    service->set_draining(false);
}

TEST(RetryPolicy, ParsesItsFieldsAndRefusesBadOnesByName) {
    auto p = jobs::retry_from_json(boost::json::parse(
        R"({"attempts": 4, "backoff": "2s", "max_backoff": "5s", "jitter": 0.5, "on": ["lost"]})"));
    ASSERT_TRUE(p) << p.error().what();
    EXPECT_EQ(p->attempts, 4u);
    EXPECT_EQ(p->wait_before(2), 2s);
    EXPECT_EQ(p->wait_before(3), 4s);
    EXPECT_EQ(p->wait_before(4), 5s) << "capped by max_backoff";
    EXPECT_TRUE(p->retries(job_state::lost));
    EXPECT_FALSE(p->retries(job_state::failed));
    EXPECT_FALSE(p->retries(job_state::killed));
    EXPECT_EQ(jobs::retry_from_json(3).value().attempts, 3u);
    for (auto [body, message] : std::initializer_list<std::pair<const char*, const char*>>{
             {R"({"attempts": 0})", "retry.attempts"},
             {R"({"attempts": 2, "on": ["killed"]})", "a kill is never retried"},
             {R"({"attempts": 2, "jitter": 2})", "retry.jitter"},
             {R"({"attempts": 2, "backoff": "soon"})", "retry.backoff"},
             {R"({"attempts": 2, "backoff": "10s", "max_backoff": "1s"})", "less than backoff"},
             {R"({"attempts": 2, "tries": 3})", "retry.tries: unknown field"},
             {R"({"backoff": "1s"})", "retry.attempts: required"},
             {R"("often")", "must be an object"}}) {
        auto bad = jobs::retry_from_json(boost::json::parse(body));
        ASSERT_FALSE(bad) << body;
        EXPECT_NE(bad.error().what().find(message), std::string::npos) << body << " → " << bad.error().what();
    }
}

TEST(FinishHook, ParsesACommandOrAUrlAndRefusesWhatItCannotUse) {
    auto h = jobs::hook_from_json(boost::json::parse(R"({"url": "http://127.0.0.1:9/x", "secret": "s", "attempts": 2})"));
    ASSERT_TRUE(h);
    EXPECT_EQ(h->attempts, 2u);
    EXPECT_EQ(jobs::hook_to_json(*h, false).at("secret"), true) << "clients never see the secret";
    EXPECT_TRUE(jobs::hook_from_json(boost::json::parse(R"(["notify-send", "done"])")));
    for (auto [body, message] : std::initializer_list<std::pair<const char*, const char*>>{
             {R"({"url": "ftp://x"})", "not an http"},
             {R"({})", "give a command, a url, or both"},
             {R"({"command": []})", "argv array"},
             {R"({"url": "http://x", "secret": "a\nb"})", "one line"},
             {R"({"url": "http://x", "attempts": 99})", "from 1 to 10"}}) {
        auto bad = jobs::hook_from_json(boost::json::parse(body));
        ASSERT_FALSE(bad) << body;
        EXPECT_NE(bad.error().what().find(message), std::string::npos) << body << " → " << bad.error().what();
    }
}

TEST(JobIds, ReadAsAnArrayOrACommaListSortedWithoutRepeats) {
    EXPECT_EQ(jobs::ids_from_json(boost::json::parse(R"("13,12,13")")).value(), (std::vector<jobs::job_id>{12, 13}));
    EXPECT_EQ(jobs::ids_from_json(boost::json::parse("[3, 1]")).value(), (std::vector<jobs::job_id>{1, 3}));
    EXPECT_FALSE(jobs::ids_from_json(boost::json::parse(R"("12,x")")));
    EXPECT_FALSE(jobs::ids_from_json(boost::json::parse("[0]")));
    EXPECT_FALSE(jobs::ids_from_json(boost::json::parse("[-1]")));
}

}  // namespace
}  // namespace corral::services
