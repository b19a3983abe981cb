// schedule_runner on a fake clock: when schedules fire, what they submit, what overlap and catch-up
// do, and what the store keeps.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "corral/services/job_request.hpp"
#include "corral/services/schedules.hpp"
#include "corral/store/memory_store.hpp"
#include "helpers/test_support.hpp"

namespace corral::services {
namespace {

using namespace std::chrono_literals;
using clock = jobs::clock;

schedule_def def(const char* json) {
    return schedule_from_json(boost::json::parse(json)).value();
}

struct Schedules : ::testing::Test {
    net::io_context ioc;
    std::unique_ptr<job_service> service = job_service::create(ioc.get_executor(), {.concurrency = 1}).value();
    schedule_runner::job_maker maker = [](const boost::json::object& job) { return parse_job_request(job, {}); };
    const clock::time_point t0 = clock::time_point(std::chrono::sys_days{std::chrono::year{2026} / 5 / 4}) + 10h;

    clock::time_point now = t0;

    Schedules() { service->set_draining(true); }  // jobs stay queued: nothing here depends on a spawn
    /// A runner on this test's clock.
    std::unique_ptr<schedule_runner> runner(std::vector<schedule_def> defs) {
        auto r = std::make_unique<schedule_runner>(*service, maker, std::move(defs));
        r->set_clock([this] { return now; });
        return r;
    }
    void at(clock::time_point t, schedule_runner& r) {
        now = t;
        r.fire_due();
    }
    ~Schedules() override { test::run_coro(ioc, service->drain(std::chrono::steady_clock::now() + 5s)); }

    std::vector<jobs::job*> jobs_of(std::string_view name) {
        std::vector<jobs::job*> out;
        for (auto* j : service->all()) {
            if (auto it = j->spec.labels.find("schedule"); it != j->spec.labels.end() && it->second == name) {
                out.push_back(j);
            }
        }
        return out;
    }
    void stop(schedule_runner& r) { test::run_coro(ioc, r.stop()); }
};

TEST_F(Schedules, AnIntervalFiresOnItsGridAndLabelsItsJobs) {
    std::vector<schedule_def> defs;
    defs.push_back(def(R"({"name": "tick", "every": "1m", "command": ["true"], "owner": "ops", "overlap": "queue"})"));
    auto runner_ = runner(std::move(defs));
    auto& r = *runner_;
    r.start();
    at(t0 + 30s, r);
    EXPECT_TRUE(jobs_of("tick").empty());
    at(t0 + 61s, r);
    ASSERT_EQ(jobs_of("tick").size(), 1u);
    EXPECT_EQ(jobs_of("tick")[0]->owner, "ops");
    const auto& e = r.all().at("tick");
    EXPECT_EQ(*e.last_run, t0 + 61s);
    EXPECT_EQ(*e.next, t0 + 121s) << "the grid is anchored at the last run";
    EXPECT_EQ(r.next_runs(e, t0 + 61s, 3), (std::vector<clock::time_point>{t0 + 121s, t0 + 181s, t0 + 241s}));
    stop(r);
}

TEST_F(Schedules, ACronScheduleFiresInItsZone) {
    std::vector<schedule_def> defs;
    defs.push_back(def(R"({"name": "nine", "cron": "0 9 * * *", "time_zone": "Europe/Berlin", "command": ["true"]})"));
    auto runner_ = runner(std::move(defs));
    auto& r = *runner_;
    r.start();  // 10:00 UTC is 12:00 in Berlin (CEST): 09:00 has passed today
    EXPECT_EQ(*r.all().at("nine").next, clock::time_point(std::chrono::sys_days{std::chrono::year{2026} / 5 / 5}) + 7h);
    stop(r);
}

TEST_F(Schedules, OverlapSkipsQueuesOrKillsThePreviousJob) {
    std::vector<schedule_def> defs;
    defs.push_back(def(R"({"name": "skip", "every": "1m", "command": ["true"]})"));
    defs.push_back(def(R"({"name": "queue", "every": "1m", "command": ["true"], "overlap": "queue"})"));
    defs.push_back(def(R"({"name": "kill", "every": "1m", "command": ["true"], "overlap": "kill-previous"})"));
    auto runner_ = runner(std::move(defs));
    auto& r = *runner_;
    r.start();
    at(t0 + 60s, r);
    at(t0 + 120s, r);  // each one's first job is still queued (drain mode)
    EXPECT_EQ(jobs_of("skip").size(), 1u);
    EXPECT_NE(r.all().at("skip").last_outcome.find("skipped: job"), std::string::npos) << r.all().at("skip").last_outcome;
    EXPECT_EQ(jobs_of("queue").size(), 2u);
    ASSERT_EQ(jobs_of("kill").size(), 2u);
    EXPECT_EQ(jobs_of("kill")[0]->state, jobs::job_state::killed);
    EXPECT_EQ(jobs_of("kill")[1]->state, jobs::job_state::queued);
    stop(r);
}

TEST_F(Schedules, AfterARestartEachCatchesUpAsItsPolicySays) {
    std::vector<schedule_def> defs;
    defs.push_back(def(R"({"name": "none", "every": "1m", "command": ["true"], "overlap": "queue"})"));
    defs.push_back(def(R"({"name": "last", "every": "1m", "command": ["true"], "overlap": "queue", "catch_up": "last"})"));
    defs.push_back(def(R"({"name": "all", "every": "1m", "command": ["true"], "overlap": "queue", "catch_up": "all", "catch_up_limit": 5})"));
    defs.push_back(def(R"({"name": "quarter", "cron": "*/15 * * * *", "time_zone": "UTC", "command": ["true"], "overlap": "queue", "catch_up": "all"})"));
    auto runner_ = runner(std::move(defs));
    auto& r = *runner_;
    std::vector<jobs::schedule_record> stored;
    for (const char* name : {"none", "last", "all", "quarter"}) {
        stored.push_back({name, "", false, t0 - 10min - 30s});  // down for ten minutes and a half
    }
    stored.back().last_run = t0 - 1h - 1s;
    r.restore(std::move(stored));
    r.start();
    EXPECT_EQ(jobs_of("none").size(), 0u);
    EXPECT_EQ(jobs_of("last").size(), 1u);
    EXPECT_EQ(jobs_of("all").size(), 5u) << "ten missed, at most five";
    EXPECT_EQ(jobs_of("quarter").size(), 5u) << "09:00, 09:15, 09:30, 09:45 and 10:00, due now";
    EXPECT_EQ(*r.all().at("none").next, t0 + 30s) << "back on its grid";
    stop(r);
}

TEST_F(Schedules, OnesAddedAtRunTimeAreKeptAndOnesFromTheConfigStay) {
    store::memory_store journal(ioc.get_executor());
    service->set_journal(&journal);
    std::vector<schedule_def> defs;
    defs.push_back(def(R"({"name": "config", "every": "1h", "command": ["true"]})"));
    auto runner_ = runner(std::move(defs));
    auto& r = *runner_;
    r.start();
    ASSERT_TRUE(r.add(def(R"({"name": "added", "cron": "@daily", "time_zone": "UTC", "command": ["true"]})")));
    EXPECT_EQ(r.add(def(R"({"name": "added", "every": "1h", "command": ["true"]})")).error().code, errc::process_exists);
    auto bad_job = r.add(def(R"({"name": "broken", "every": "1h", "job": {"command": []}})"));
    ASSERT_FALSE(bad_job);
    EXPECT_NE(bad_job.error().what().find("job: command"), std::string::npos) << bad_job.error().what();
    EXPECT_EQ(r.remove("config").error().code, errc::invalid_state);
    EXPECT_EQ(r.remove("nothing").error().code, errc::process_not_found);
    at(t0 + 1h, r);
    stop(r);
    // A new runner (a restart) gets the added one back, and each one's last run.
    auto loaded = journal.take_loaded();
    std::vector<schedule_def> again;
    again.push_back(def(R"({"name": "config", "every": "1h", "command": ["true"]})"));
    auto after_ = runner(std::move(again));
    auto& after = *after_;
    after.restore(loaded.schedules);
    ASSERT_EQ(after.all().size(), 2u);
    EXPECT_TRUE(after.all().at("added").def.added);
    EXPECT_EQ(*after.all().at("config").last_run, t0 + 1h);
    ASSERT_TRUE(after.remove("added"));
    EXPECT_EQ(journal.take_loaded().schedules.size(), 1u);
    service->set_journal(nullptr);
}

TEST_F(Schedules, AReloadAddsRemovesAndChangesTheConfigsAndLeavesTheAddedOnes) {
    std::vector<schedule_def> defs;
    defs.push_back(def(R"({"name": "keep", "every": "1h", "command": ["true"]})"));
    defs.push_back(def(R"({"name": "change", "every": "1h", "command": ["true"]})"));
    defs.push_back(def(R"({"name": "drop", "every": "1h", "command": ["true"]})"));
    auto runner_ = runner(std::move(defs));
    auto& r = *runner_;
    r.start();
    ASSERT_TRUE(r.add(def(R"({"name": "added", "every": "1h", "command": ["true"]})")));
    at(t0 + 1h, r);
    ASSERT_EQ(jobs_of("change").size(), 1u);
    // A bad job anywhere in the new config changes nothing.
    std::vector<schedule_def> bad;
    bad.push_back(def(R"({"name": "keep", "every": "1h", "command": ["true"]})"));
    bad.push_back(def(R"({"name": "broken", "every": "1h", "job": {"command": []}})"));
    auto refused = r.reload(std::move(bad));
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().what().find("schedule 'broken'"), std::string::npos) << refused.error().what();
    EXPECT_EQ(r.all().size(), 4u);
    // Now a good one.
    std::vector<schedule_def> fresh;
    fresh.push_back(def(R"({"name": "keep", "every": "1h", "command": ["true"]})"));
    // (overlap: queue, for the jobs stay queued here: the queue is drained)
    fresh.push_back(def(R"({"name": "change", "every": "10m", "command": ["true", "changed"], "overlap": "queue"})"));
    fresh.push_back(def(R"({"name": "new", "every": "30m", "command": ["true"], "overlap": "queue"})"));
    auto done = r.reload(std::move(fresh));
    ASSERT_TRUE(done) << done.error().what();
    EXPECT_EQ(done->added, std::vector<std::string>{"new"});
    EXPECT_EQ(done->removed, std::vector<std::string>{"drop"});
    EXPECT_EQ(done->changed, std::vector<std::string>{"change"});
    EXPECT_EQ(done->unchanged, 1u);
    ASSERT_EQ(r.all().size(), 4u);
    EXPECT_TRUE(r.all().count("added")) << "one added at run time stays";
    EXPECT_FALSE(r.all().count("drop"));
    const auto& changed = r.all().at("change");
    EXPECT_EQ(*changed.last_run, t0 + 1h) << "a changed schedule keeps its last run";
    EXPECT_EQ(*changed.next, t0 + 1h + 10min) << "and fires on its new grid";
    at(t0 + 1h + 10min, r);
    ASSERT_EQ(jobs_of("change").size(), 2u);
    EXPECT_EQ(jobs_of("change")[1]->spec.process.argv, (std::vector<std::string>{"true", "changed"}));
    at(t0 + 1h + 30min, r);
    EXPECT_EQ(jobs_of("new").size(), 1u) << "a new one fires on its own grid";
    at(t0 + 2h, r);
    EXPECT_EQ(jobs_of("new").size(), 2u);
    EXPECT_EQ(jobs_of("drop").size(), 1u) << "a removed schedule fires no more";
    stop(r);
}

TEST(ScheduleDefinition, BadOnesAreRefusedWithTheFieldNamed) {
    for (auto [body, message] : std::initializer_list<std::pair<const char*, const char*>>{
             {R"({"cron": "* * * * *", "command": ["true"]})", "name: required"},
             {R"({"name": "a b", "every": "1m", "command": ["true"]})", "name: required"},
             {R"({"name": "x", "command": ["true"]})", "give either cron"},
             {R"({"name": "x", "cron": "* * * * *", "every": "1m", "command": ["true"]})", "give either cron"},
             {R"({"name": "x", "every": "100ms", "command": ["true"]})", "at least 1s"},
             {R"({"name": "x", "cron": "* * *", "command": ["true"]})", "cron: '* * *' has 3 field(s)"},
             {R"({"name": "x", "cron": "@daily", "time_zone": "Nowhere/Land", "command": ["true"]})", "time_zone"},
             {R"({"name": "x", "every": "1m", "overlap": "sometimes", "command": ["true"]})", "overlap"},
             {R"({"name": "x", "every": "1m", "catch_up": "most", "command": ["true"]})", "catch_up"},
             {R"({"name": "x", "every": "1m"})", "give its job"},
             {R"({"name": "x", "every": "1m", "job": {"command": ["true"]}, "shell": "x"})", "shell: unknown field"}}) {
        auto d = schedule_from_json(boost::json::parse(body));
        ASSERT_FALSE(d) << body;
        EXPECT_NE(d.error().what().find(message), std::string::npos) << body << " → " << d.error().what();
    }
}

}  // namespace
}  // namespace corral::services
