// Live events (SPEC §11): every subscriber gets every event in order, a slow subscriber loses its
// oldest events (counted) instead of blocking the publisher, and the subscriber bound holds.
#include "admin/event_hub.hpp"

#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

namespace qcc::admin {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::vector<LiveEvent> next(asio::io_context& ioc, Subscriber& s, std::chrono::milliseconds wait) {
    auto f = asio::co_spawn(ioc, s.next(wait), asio::use_future);
    ioc.restart();
    ioc.run();
    return f.get();
}

TEST(EventHub, DeliversToEverySubscriberInOrder) {
    asio::io_context ioc;
    EventHub hub;
    EXPECT_FALSE(hub.has_subscribers());
    auto s1 = hub.subscribe(ioc.get_executor());
    auto s2 = hub.subscribe(ioc.get_executor());
    ASSERT_TRUE(s1 && s2);
    EXPECT_EQ(hub.subscribers(), 2u);
    hub.publish("state", "{\"n\":1}");
    hub.publish("request", "{\"n\":2}");
    for (auto* s : {s1.get(), s2.get()}) {
        const auto got = next(ioc, *s, 5s);
        ASSERT_EQ(got.size(), 2u);
        EXPECT_EQ(got[0].kind, "state");
        EXPECT_EQ(got[0].data, "{\"n\":1}");
        EXPECT_EQ(got[1].kind, "request");
    }
    hub.unsubscribe(s1);
    EXPECT_EQ(hub.subscribers(), 1u);
}

TEST(EventHub, WaitEndsWhenAnEventArrivesFromAnotherThread) {
    asio::io_context ioc;
    EventHub hub;
    auto s = hub.subscribe(ioc.get_executor());
    auto f = asio::co_spawn(ioc, s->next(60s), asio::use_future);
    // Whether the publish lands before or during the wait, next() must return it at once.
    std::thread publisher([&] { hub.publish("check", "{}"); });
    ioc.run_for(30s);  // returns as soon as next() completes; the deadline only bounds a bug
    publisher.join();
    ASSERT_EQ(f.wait_for(0s), std::future_status::ready) << "next() must wake on publish";
    const auto got = f.get();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].kind, "check");
}

TEST(EventHub, SlowSubscriberDropsOldestAndCountsThem) {
    asio::io_context ioc;
    EventHub hub;
    auto s = hub.subscribe(ioc.get_executor(), 3);
    for (int i = 0; i < 5; ++i) hub.publish("request", std::to_string(i));
    const auto got = next(ioc, *s, 5s);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].data, "2");
    EXPECT_EQ(got[2].data, "4");
    EXPECT_EQ(s->dropped(), 2u);
}

TEST(EventHub, RefusesSubscribersBeyondTheBound) {
    asio::io_context ioc;
    EventHub hub;
    std::vector<std::shared_ptr<Subscriber>> subs;
    for (std::size_t i = 0; i < EventHub::kMaxSubscribers; ++i) {
        subs.push_back(hub.subscribe(ioc.get_executor()));
        ASSERT_TRUE(subs.back());
    }
    EXPECT_EQ(hub.subscribe(ioc.get_executor()), nullptr);
}

}  // namespace
}  // namespace qcc::admin
