// The job service decides every right for a caller (caller_api.cpp): what adapters get back, without
// a daemon around it. Jobs stay queued (drain mode) so that nothing here depends on a spawn.
#include <gtest/gtest.h>

#include "corral/services/job_service.hpp"
#include "helpers/test_support.hpp"

namespace corral::services {
namespace {

struct CallerApi : ::testing::Test {
    net::io_context ioc;
    std::unique_ptr<job_service> service = job_service::create(ioc.get_executor(), {.concurrency = 1}).value();
    using role = std::shared_ptr<const auth::role_policy>;
    role user_role = std::make_shared<const auth::role_policy>(auth::role_policy{.name = "user", .commands = true});
    role viewer_role = std::make_shared<const auth::role_policy>(
        auth::role_policy{.name = "viewer", .commands = true, .see_all = true});
    role admin_role = std::make_shared<const auth::role_policy>(auth::role_policy{.name = "admin", .admin = true});
    auth::identity ann{"ann", user_role};
    auth::identity bob{"bob", user_role};
    auth::identity vic{"vic", viewer_role};
    auth::identity root{"root", admin_role};

    CallerApi() { service->set_draining(true); }
    jobs::job_id submit_as(const std::string& owner) {
        submit_request r;
        r.owner = owner;
        r.spec.process.argv = {"true"};
        return service->submit(std::move(r)).value()->id;
    }
};

TEST_F(CallerApi, AnotherUsersJobIsMissingUnlessTheRoleSeesAllAndActingOnItNeedsKillAll) {
    const auto id = submit_as("ann");
    EXPECT_TRUE(service->find_as(ann, id));
    auto hidden = service->find_as(bob, id);
    ASSERT_FALSE(hidden);
    EXPECT_EQ(hidden.error().code, errc::job_not_found);  // not "forbidden": ids tell nothing
    // The same answer as for a job that does not exist.
    EXPECT_EQ(hidden.error().what(), "no job " + std::to_string(id));
    EXPECT_EQ(service->find_as(bob, id + 100).error().what(), "no job " + std::to_string(id + 100));
    EXPECT_TRUE(service->find_as(vic, id));
    auto seen_not_controlled = service->control_as(vic, id);
    ASSERT_FALSE(seen_not_controlled);
    EXPECT_EQ(seen_not_controlled.error().code, errc::forbidden);
    EXPECT_NE(seen_not_controlled.error().what().find("may not act on job"), std::string::npos);
    EXPECT_TRUE(service->control_as(root, id));
    EXPECT_FALSE(service->kill_as(bob, id, std::nullopt, std::nullopt));
    EXPECT_TRUE(service->kill_as(ann, id, std::nullopt, std::nullopt));  // a queued job is cancelled
    EXPECT_EQ(service->find(id)->state, jobs::job_state::killed);
}

TEST_F(CallerApi, ListingsAndTheQueueShowACallerOnlyWhatTheyMaySee) {
    submit_as("ann");
    submit_as("bob");
    submit_as("ann");
    job_query everyone;  // a caller asking for every owner
    EXPECT_EQ(service->list_as(ann, everyone).jobs.size(), 2u);
    EXPECT_EQ(service->list_as(vic, everyone).jobs.size(), 3u);
    job_query bobs;
    bobs.owner = "bob";
    EXPECT_EQ(service->list_as(ann, bobs).jobs.size(), 2u) << "asking for bob's jobs shows ann her own";
    EXPECT_EQ(service->queue_as(bob, 10).size(), 1u);
    EXPECT_EQ(service->queue_as(root, 10).size(), 3u);
}

TEST_F(CallerApi, OnlyAnAdminDrainsAndResumesAndReadsTheAuditTrail) {
    auto refused = service->set_draining_as(ann, false);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, errc::forbidden);
    EXPECT_TRUE(service->draining());
    EXPECT_TRUE(service->set_draining_as(root, false));
    EXPECT_FALSE(service->draining());
    auto trail = test::run_coro(ioc, service->audit_trail_as(ann, 0, 10, 0));
    ASSERT_FALSE(trail);
    EXPECT_EQ(trail.error().code, errc::forbidden);
    auto no_store = test::run_coro(ioc, service->audit_trail_as(root, 0, 10, 0));
    ASSERT_FALSE(no_store);
    EXPECT_EQ(no_store.error().code, errc::unsupported);  // allowed, but there is no store here
    service->set_draining(true);
}

TEST_F(CallerApi, ASubscriptionFollowsOnlyJobsItsCallerMaySeeAndOnlyItsCallerResumesIt) {
    const auto anns = submit_as("ann");
    const auto bobs = submit_as("bob");
    auto sub = service->subscribe_as(ann).value();
    EXPECT_TRUE(service->follow_as(ann, *sub, anns, false));
    auto refused = service->follow_as(ann, *sub, bobs, false);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, errc::job_not_found);
    EXPECT_FALSE(sub->follows(bobs));
    // Following every job still shows ann only hers.
    sub->follow_all(true);
    submit_as("bob");
    const auto later = submit_as("ann");
    auto batch = sub->take();
    ASSERT_EQ(batch.events.size(), 1u);
    EXPECT_EQ(batch.events[0]->job, later);
    EXPECT_TRUE(service->resume_as(ann, sub->id()));
    auto stranger = service->resume_as(bob, sub->id());
    ASSERT_FALSE(stranger);
    EXPECT_EQ(stranger.error().code, errc::subscription_not_found);
}

}  // namespace
}  // namespace corral::services
