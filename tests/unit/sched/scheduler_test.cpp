#include "corral/sched/scheduler.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace corral::sched {
namespace {

std::vector<job_id> drain(scheduler& s) {
    std::vector<job_id> order;
    while (auto id = s.pop()) {
        order.push_back(*id);
    }
    return order;
}

TEST(Scheduler, PopsLowestPriorityNumberFirstAndFifoWithinAPriority) {
    scheduler s({.slots = 100});
    ASSERT_TRUE(s.push(1, 4, ""));
    ASSERT_TRUE(s.push(2, 4, ""));
    ASSERT_TRUE(s.push(3, 9, ""));
    ASSERT_TRUE(s.push(4, 0, ""));
    ASSERT_TRUE(s.push(5, 4, ""));
    EXPECT_EQ(drain(s), (std::vector<job_id>{4, 1, 2, 5, 3}));
    EXPECT_EQ(s.running(), 5u);
    EXPECT_EQ(s.queued(), 0u);
}

// ASEXOR's scenario: four slots, six priority-4 jobs, then one priority-0 job added last. It takes the
// first slot that frees, ahead of the two priority-4 jobs still waiting.
TEST(Scheduler, AsexorOrderingScenario) {
    scheduler s({.slots = 4});
    for (job_id id = 1; id <= 6; ++id) {
        ASSERT_TRUE(s.push(id, 4, ""));
    }
    EXPECT_EQ(drain(s), (std::vector<job_id>{1, 2, 3, 4}));
    ASSERT_TRUE(s.push(7, 0, ""));
    EXPECT_FALSE(s.pop()) << "no slot is free";
    s.finished("");
    EXPECT_EQ(s.pop(), job_id{7});
    s.finished("");
    s.finished("");
    EXPECT_EQ(drain(s), (std::vector<job_id>{5, 6}));
}

TEST(Scheduler, HonoursTheGlobalSlotLimit) {
    scheduler s({.slots = 2});
    for (job_id id = 1; id <= 5; ++id) {
        ASSERT_TRUE(s.push(id, 0, ""));
    }
    EXPECT_EQ(drain(s).size(), 2u);
    EXPECT_EQ(s.queued(), 3u);
    s.finished("");
    EXPECT_EQ(drain(s), (std::vector<job_id>{3}));
}

TEST(Scheduler, AFullGroupDoesNotHoldUpOtherGroups) {
    scheduler s({.slots = 10, .group_limits = {{"db", 1}}});
    ASSERT_TRUE(s.push(1, 0, "db"));
    ASSERT_TRUE(s.push(2, 0, "db"));
    ASSERT_TRUE(s.push(3, 0, "db"));
    ASSERT_TRUE(s.push(4, 5, "web"));
    ASSERT_TRUE(s.push(5, 5, ""));
    // Jobs 2 and 3 come first by priority but their group is full: 4 and 5 start instead.
    EXPECT_EQ(drain(s), (std::vector<job_id>{1, 4, 5}));
    s.finished("db");
    EXPECT_EQ(drain(s), (std::vector<job_id>{2}));
    const auto groups = s.groups();
    ASSERT_TRUE(groups.count("db"));
    EXPECT_EQ(groups.at("db").running, 1u);
    EXPECT_EQ(groups.at("db").queued, 1u);
    EXPECT_EQ(groups.at("db").limit, 1u);
}

TEST(Scheduler, QueueCapRejectsWithQueueFull) {
    scheduler s({.slots = 1, .max_queued = 2});
    ASSERT_TRUE(s.push(1, 0, ""));
    ASSERT_TRUE(s.push(2, 0, ""));
    auto third = s.push(3, 0, "");
    ASSERT_FALSE(third);
    EXPECT_EQ(third.error().code, errc::queue_full);
    EXPECT_NE(third.error().what().find("2 jobs are waiting"), std::string::npos) << third.error().what();
    ASSERT_TRUE(s.pop());
    EXPECT_TRUE(s.push(3, 0, "")) << "a started job leaves the queue";
}

TEST(Scheduler, CancelRemovesAQueuedJobOnlyOnce) {
    scheduler s({.slots = 1, .group_limits = {{"g", 1}}});
    auto a = s.push(1, 0, "g");
    auto b = s.push(2, 0, "g");
    auto c = s.push(3, 1, "g");
    ASSERT_TRUE(a && b && c);
    EXPECT_TRUE(s.cancel(2, *b, "g"));
    EXPECT_FALSE(s.cancel(2, *b, "g"));
    EXPECT_FALSE(s.cancel(9, *b, "nope"));
    EXPECT_TRUE(s.cancel(1, *a, "g")) << "cancelling the group's head lists the next one";
    EXPECT_EQ(drain(s), (std::vector<job_id>{3}));
    EXPECT_FALSE(s.cancel(3, *c, "g")) << "a started job is not queued";
}

TEST(Scheduler, RestoreKeepsOrderAndNewJobsQueueBehind) {
    scheduler s({.slots = 10, .max_queued = 2});
    s.restore(20, {4, 20}, "");
    s.restore(10, {4, 10}, "");
    s.restore(15, {4, 15}, "");
    EXPECT_EQ(s.queued(), 3u) << "restore ignores the cap: accepted jobs are never dropped";
    EXPECT_FALSE(s.push(30, 4, ""));
    EXPECT_EQ(s.pop(), job_id{10});
    EXPECT_EQ(s.pop(), job_id{15});
    auto next = s.push(30, 4, "");
    ASSERT_TRUE(next);
    EXPECT_GT(next->seq, 20u);
    EXPECT_EQ(drain(s), (std::vector<job_id>{20, 30}));
}

TEST(Scheduler, SnapshotListsTheQueueInStartOrder) {
    scheduler s({.slots = 1});
    ASSERT_TRUE(s.push(1, 5, "a"));
    ASSERT_TRUE(s.push(2, 1, "b"));
    ASSERT_TRUE(s.push(3, 5, ""));
    auto view = s.snapshot(2);
    ASSERT_EQ(view.size(), 2u);
    EXPECT_EQ(view[0].id, 2u);
    EXPECT_EQ(view[0].group, "b");
    EXPECT_EQ(view[1].id, 1u);
}

TEST(Scheduler, IdleGroupsAreForgotten) {
    scheduler s({.slots = 4});
    for (job_id id = 1; id <= 100; ++id) {
        ASSERT_TRUE(s.push(id, 0, fmt::format("group-{}", id)));
    }
    for (auto id : drain(s)) {
        s.finished(fmt::format("group-{}", id));
    }
    for (job_id id = 1; id <= 100; ++id) {
        s.cancel(id, {0, id}, fmt::format("group-{}", id));
    }
    EXPECT_TRUE(s.groups().empty());
    EXPECT_EQ(s.queued(), 0u);
    EXPECT_EQ(s.running(), 0u);
}

}  // namespace
}  // namespace corral::sched
