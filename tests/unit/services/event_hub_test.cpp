#include "corral/services/event_hub.hpp"

#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include "corral/core/keyed_event.hpp"
#include "helpers/test_support.hpp"

namespace corral::services {
namespace {

using namespace std::chrono_literals;
using jobs::job_event;

jobs::job make_job(jobs::job_id id, std::string owner, jobs::job_state state = jobs::job_state::running) {
    jobs::job j;
    j.id = id;
    j.owner = std::move(owner);
    j.state = state;
    return j;
}

std::vector<std::uint64_t> seqs(const subscription::batch& b) {
    std::vector<std::uint64_t> v;
    for (const auto& e : b.events) {
        v.push_back(e->seq);
    }
    return v;
}

/// Counts the times a coroutine waiting on `s` wakes, until the context stops.
void count_wakeups(net::io_context& ioc, std::shared_ptr<subscription> s, int& woken) {
    net::co_spawn(
        ioc,
        [s, &woken]() -> net::awaitable<void> {
            while (!s->closed()) {
                co_await s->wait();
                ++woken;
            }
        },
        net::detached);
}

TEST(EventHub, NumbersEveryEventFromOneWithoutGapsAndTimesIt) {
    net::io_context ioc;
    event_hub hub(ioc.get_executor(), {});
    auto j = make_job(7, "ann");
    const auto before = jobs::clock::now();
    auto a = hub.publish(j, job_event::queued);
    auto b = hub.publish(j, job_event::started);
    EXPECT_EQ(a->seq, 1u);
    EXPECT_EQ(b->seq, 2u);
    EXPECT_EQ(hub.last_seq(), 2u);
    EXPECT_GE(a->time, before);
    EXPECT_LE(a->time, b->time);
    EXPECT_EQ(b->job, 7u);
    EXPECT_EQ(b->state, jobs::job_state::running);
    EXPECT_EQ(b->owner, "ann");
}

TEST(EventHub, AnEventReachesOnlyTheSubscriptionsOfItsJobAndThoseFollowingAll) {
    net::io_context ioc;
    event_hub hub(ioc.get_executor(), {});
    auto one = hub.create("ann", std::nullopt).value();
    auto two = hub.create("ann", std::nullopt).value();
    auto all = hub.create("ann", std::nullopt).value();
    one->follow(1, false);
    two->follow(2, false);
    all->follow_all(true);
    int woken_one = 0, woken_two = 0;
    count_wakeups(ioc, one, woken_one);
    count_wakeups(ioc, two, woken_two);
    ioc.poll();
    auto j1 = make_job(1, "ann");
    for (int i = 0; i < 100; ++i) {
        hub.publish(j1, job_event::progress);
    }
    ioc.poll();
    EXPECT_EQ(one->take().events.size(), 100u);
    EXPECT_EQ(all->take().events.size(), 100u);
    // The subscription of job 2 was never woken and holds nothing: idle ones cost nothing.
    EXPECT_FALSE(two->has_pending());
    EXPECT_EQ(woken_two, 0);
    EXPECT_GE(woken_one, 1);
    EXPECT_EQ(hub.stats().delivered, 200u);
    hub.close_all("done");
    ioc.poll();
}

TEST(EventHub, ACallerWhoSeesOnlyTheirOwnJobsGetsOnlyTheirEventsEvenFollowingAll) {
    net::io_context ioc;
    event_hub hub(ioc.get_executor(), {});
    auto bob = hub.create("bob", std::string("bob")).value();
    bob->follow_all(true);
    auto anns = make_job(1, "ann");
    auto bobs = make_job(2, "bob");
    hub.publish(anns, job_event::started);
    hub.publish(bobs, job_event::started);
    auto b = bob->take();
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0]->job, 2u);
    // Nor does replaying the kept events show them another user's job.
    auto again = hub.create("bob", std::string("bob")).value();
    again->follow_all(true);
    EXPECT_TRUE(hub.replay(*again, 0));
    EXPECT_EQ(seqs(again->take()), (std::vector<std::uint64_t>{2}));
}

TEST(EventHub, ASlowSubscriptionLosesItsOldestEventsAndIsToldHowMany) {
    net::io_context ioc;
    event_hub hub(ioc.get_executor(), {.max_pending = 3});
    auto s = hub.create("ann", std::nullopt).value();
    s->follow(1, false);
    auto j = make_job(1, "ann");
    for (int i = 0; i < 5; ++i) {
        hub.publish(j, job_event::progress);
    }
    auto b = s->take();
    EXPECT_EQ(seqs(b), (std::vector<std::uint64_t>{3, 4, 5}));
    EXPECT_EQ(b.lost, 2u);
    EXPECT_EQ(s->cursor(), 5u);
    EXPECT_EQ(hub.stats().dropped, 2u);
    EXPECT_FALSE(s->closed());
    // Bounded for as long as it falls behind, not only once.
    for (int i = 0; i < 1000; ++i) {
        hub.publish(j, job_event::progress);
    }
    auto later = s->take();
    EXPECT_EQ(later.events.size(), 3u);
    EXPECT_EQ(later.lost, 997u);
    EXPECT_EQ(later.events.back()->seq, 1005u);
}

TEST(EventHub, UnderTheDisconnectPolicyASlowSubscriptionIsClosedWithAReason) {
    net::io_context ioc;
    event_hub hub(ioc.get_executor(), {.max_pending = 2, .on_slow = slow_policy::disconnect});
    auto s = hub.create("ann", std::nullopt).value();
    s->follow(1, false);
    auto j = make_job(1, "ann");
    for (int i = 0; i < 3; ++i) {
        hub.publish(j, job_event::progress);
    }
    ASSERT_TRUE(s->closed());
    EXPECT_NE(s->closed()->find("too slow"), std::string::npos) << *s->closed();
    EXPECT_EQ(hub.find(s->id(), "ann"), nullptr);  // a closed subscription cannot be resumed
}

TEST(EventHub, ASubscriptionOutlivesItsReaderForItsLingerTimeThenGoes) {
    net::io_context ioc;
    event_hub hub(ioc.get_executor(), {.linger = 50ms});
    auto id = hub.create("ann", std::nullopt).value()->id();
    {
        subscription::reader r(hub.find(id, "ann"));
        r->follow(1, true, 10);
        // While read, it stays whatever the time.
        net::steady_timer t(ioc, 120ms);
        t.wait();
        ioc.run_for(10ms);
        ASSERT_NE(hub.find(id, "ann"), nullptr);
    }
    // Its reader left: still there for a reconnect, with where it was...
    auto back = hub.find(id, "ann");
    ASSERT_NE(back, nullptr);
    EXPECT_EQ(back->followed().at(1).cursor, 10u);
    back.reset();
    // ...and gone once the linger time has passed with nobody reading it.
    ioc.restart();
    ioc.run_for(200ms);
    EXPECT_EQ(hub.find(id, "ann"), nullptr);
    EXPECT_EQ(hub.size(), 0u);
    EXPECT_EQ(hub.stats().expired, 1u);
}

TEST(EventHub, OnlyItsUserMayResumeASubscriptionAndANewReaderReplacesTheOld) {
    net::io_context ioc;
    event_hub hub(ioc.get_executor(), {});
    auto s = hub.create("ann", std::nullopt).value();
    EXPECT_EQ(hub.find(s->id(), "bob"), nullptr);
    EXPECT_EQ(hub.find("0123456789abcdef0123456789abcdef", "ann"), nullptr);
    EXPECT_EQ(s->id().size(), 32u);
    EXPECT_NE(hub.create("ann", std::nullopt).value()->id(), s->id());
    subscription::reader first(s);
    EXPECT_TRUE(first.current());
    subscription::reader second(hub.find(s->id(), "ann"));
    EXPECT_FALSE(first.current());  // ASEXOR: a second connection with the session replaces the first
    EXPECT_TRUE(second.current());
}

TEST(EventHub, PastItsLimitTheSubscriptionUnreadLongestGoesFirstAndThenNewOnesAreRefused) {
    net::io_context ioc;
    event_hub hub(ioc.get_executor(), {.max_subscriptions = 2});
    auto old_one = hub.create("ann", std::nullopt).value();
    std::this_thread::sleep_for(2ms);
    auto newer = hub.create("ann", std::nullopt).value();
    subscription::reader reading(newer);
    auto third = hub.create("ann", std::nullopt);
    ASSERT_TRUE(third);
    EXPECT_EQ(hub.find(old_one->id(), "ann"), nullptr);
    EXPECT_TRUE(old_one->closed());
    EXPECT_NE(hub.find(newer->id(), "ann"), nullptr);
    subscription::reader reading_third(*third);
    auto fourth = hub.create("ann", std::nullopt);
    ASSERT_FALSE(fourth);
    EXPECT_EQ(fourth.error().code, errc::queue_full);
    EXPECT_NE(fourth.error().what().find("api.max_subscriptions"), std::string::npos);
}

TEST(EventHub, ASubscriptionStartingAfterASequenceNumberGetsTheKeptEventsSinceAndIsToldOfAGap) {
    net::io_context ioc;
    event_hub hub(ioc.get_executor(), {.events_kept = 4});
    auto j1 = make_job(1, "ann");
    auto j2 = make_job(2, "ann");
    for (int i = 0; i < 3; ++i) {  // job 1: 1 3 5, job 2: 2 4 6; 3 to 6 are kept
        hub.publish(j1, job_event::progress);
        hub.publish(j2, job_event::progress);
    }
    auto s = hub.create("ann", std::nullopt).value();
    s->follow(1, false);
    EXPECT_TRUE(hub.replay(*s, 3));
    EXPECT_EQ(seqs(s->take()), (std::vector<std::uint64_t>{5}));
    EXPECT_FALSE(hub.replay(*s, 1));  // 2 is no longer kept: the caller must re-read the jobs
    EXPECT_EQ(seqs(s->take()), (std::vector<std::uint64_t>{3, 5}));
}

TEST(EventHub, AnEventsOnlyFollowEndsWithItsJobAndLeavesNothingIndexed) {
    net::io_context ioc;
    event_hub hub(ioc.get_executor(), {});
    auto s = hub.create("ann", std::nullopt).value();
    s->follow(1, false);
    s->follow(2, true);
    auto j1 = make_job(1, "ann", jobs::job_state::succeeded);
    auto j2 = make_job(2, "ann", jobs::job_state::succeeded);
    hub.publish(j1, job_event::finished);
    hub.publish(j2, job_event::finished);
    EXPECT_FALSE(s->follows(1));
    EXPECT_TRUE(s->follows(2));  // its reader still has output to send, then unfollows
    EXPECT_EQ(s->take().events.size(), 2u);
    // Nothing comes for finished jobs any more.
    hub.publish(j1, job_event::progress);
    EXPECT_FALSE(s->has_pending());
}

TEST(EventHub, ASubscriptionFollowingAJobAndEveryJobGetsEachEventOnce) {
    net::io_context ioc;
    event_hub hub(ioc.get_executor(), {});
    auto s = hub.create("ann", std::nullopt).value();
    s->follow_all(true);
    s->follow(1, false);
    auto j = make_job(1, "ann");
    hub.publish(j, job_event::started);
    j.state = jobs::job_state::succeeded;
    hub.publish(j, job_event::finished);  // ends the events-only follow as it is delivered
    EXPECT_EQ(seqs(s->take()), (std::vector<std::uint64_t>{1, 2}));
}

TEST(EventHub, EventsPutBackComeFirstForTheNextReader) {
    net::io_context ioc;
    event_hub hub(ioc.get_executor(), {});
    auto s = hub.create("ann", std::nullopt).value();
    s->follow(1, false);
    auto j = make_job(1, "ann");
    hub.publish(j, job_event::started);
    hub.publish(j, job_event::progress);
    auto b = s->take();
    hub.publish(j, job_event::progress);
    s->put_back({b.events[1]});  // the first was written, the second was not
    EXPECT_EQ(s->cursor(), 1u);
    EXPECT_EQ(seqs(s->take()), (std::vector<std::uint64_t>{2, 3}));
}

TEST(KeyedEvent, WakesOnlyTheWaitersOfItsKey) {
    net::io_context ioc;
    keyed_event<int> events(ioc.get_executor());
    int woken_1 = 0, woken_2 = 0;
    auto waiter = [&](int key, int& woken) -> net::awaitable<void> {
        auto e = events.get(key);
        co_await e->wait();
        ++woken;
    };
    net::co_spawn(ioc, waiter(1, woken_1), net::detached);
    net::co_spawn(ioc, waiter(2, woken_2), net::detached);
    ioc.poll();
    EXPECT_EQ(events.size(), 2u);
    events.notify(1);
    ioc.poll();
    EXPECT_EQ(woken_1, 1);
    EXPECT_EQ(woken_2, 0);
    EXPECT_EQ(events.size(), 1u);  // forgotten once notified
    events.notify(2);
    ioc.run();
    EXPECT_EQ(woken_2, 1);
}

}  // namespace
}  // namespace corral::services
