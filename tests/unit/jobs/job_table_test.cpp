#include "corral/jobs/job_table.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

namespace corral::jobs {
namespace {

using namespace std::chrono_literals;

class JobTableTest : public ::testing::Test {
  protected:
    job& add(job_table& t) {
        return t.add("me", {}, std::move(*output::output_log::create(ioc_.get_executor())));
    }
    void finish(job_table& t, job& j, clock::time_point when = clock::now()) {
        j.state = job_state::succeeded;
        j.finished = when;
        t.notify(j, job_event::finished);
    }
    net::io_context ioc_;
};

TEST_F(JobTableTest, AssignsIncreasingIds) {
    job_table t;
    EXPECT_EQ(add(t).id, 1u);
    EXPECT_EQ(add(t).id, 2u);
    EXPECT_EQ(t.find(2)->owner, "me");
    EXPECT_EQ(t.find(3), nullptr);
    EXPECT_EQ(t.list().size(), 2u);
}

TEST_F(JobTableTest, KeepsTheLastHundredFinishedByDefault) {
    job_table t;
    auto& running = add(t);
    running.state = job_state::running;
    for (int i = 0; i < 150; ++i) {
        finish(t, add(t));
    }
    EXPECT_EQ(t.size(), 101u);
    EXPECT_NE(t.find(running.id), nullptr);  // never evicted while running
    EXPECT_EQ(t.find(2), nullptr);           // the oldest finished went first
    EXPECT_NE(t.find(151), nullptr);
}

TEST_F(JobTableTest, EvictsByAge) {
    job_table t({.max_finished = 1000, .max_age = 60s});
    auto now = clock::now();
    auto& old_job = add(t);
    finish(t, old_job, now - 120s);
    auto& fresh = add(t);
    finish(t, fresh, now);
    auto& queued = add(t);
    EXPECT_EQ(t.evict(now), 0u);  // already evicted on finish
    EXPECT_EQ(t.find(1), nullptr);
    EXPECT_NE(t.find(fresh.id), nullptr);
    EXPECT_NE(t.find(queued.id), nullptr);
}

}  // namespace
}  // namespace corral::jobs
