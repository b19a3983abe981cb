// A WAMP session on arbitrary messages: the opening handshake and everything after it, JSON or CBOR,
// routed through a router where another session subscribes and offers a procedure. Nothing crashes
// or leaks, and every session ends once its client's messages run out.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "corral/proto/wamp_session.hpp"

namespace {

using namespace corral;
namespace json = boost::json;

/// The client's side of the connection: messages from the fuzz input, replies counted.
class memory_link final : public proto::wamp::link {
  public:
    memory_link(std::vector<std::string> in, bool cbor) : in_(std::move(in)), cbor_(cbor) {}
    net::awaitable<std::optional<std::string>> receive() override {
        if (next_ < in_.size()) {
            co_return in_[next_++];
        }
        co_return std::nullopt;
    }
    net::awaitable<bool> send(std::string_view bytes) override {
        sent_ += bytes.size();
        co_return true;
    }
    net::awaitable<void> close() override { co_return; }
    bool cbor() const override { return cbor_; }
    const std::string& where() const override { return where_; }

  private:
    std::vector<std::string> in_;
    std::size_t next_ = 0;
    bool cbor_;
    std::size_t sent_ = 0;
    std::string where_ = "fuzz";
};

/// Another session: subscribed to a topic, the callee of a procedure that answers every invocation.
class other_session final : public proto::wamp::peer {
  public:
    explicit other_session(proto::wamp::router& r) : router_(r) {}
    void deliver(json::array m) override {
        if (m.size() >= 2 && m[0] == 68) {
            router_.answer(*this, m[1].to_number<std::uint64_t>(), {}, nullptr, nullptr, nullptr);
        }
    }

  private:
    proto::wamp::router& router_;
};

struct world {
    net::io_context io{1};
    std::unique_ptr<services::job_service> service;
    tasks::task_catalog catalog;
    jobs::job_spec defaults;
    auth::authority auth;
    std::unique_ptr<proto::asexor::backend> backend;

    world() {
        spdlog::set_level(spdlog::level::warn);  // a refusal per input is logged at info
        services::service_options options;
        options.subscriptions.linger = std::chrono::milliseconds(0);
        service = std::move(services::job_service::create(io.get_executor(), options).value());
        auth = auth::authority::create({.anonymous_role = "user"}).value();
        backend = std::make_unique<proto::asexor::backend>(proto::asexor::backend{*service, catalog, defaults, auth});
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static world& w = *new world;  // never destroyed: the service expects its io_context to have stopped first
    if (size < 1) {
        return 0;
    }
    // The first byte: JSON or CBOR. Then messages, each a 2-byte big-endian length and its bytes.
    const bool cbor = data[0] & 1;
    std::vector<std::string> messages;
    for (std::size_t at = 1; at + 2 <= size;) {
        const std::size_t n = std::min<std::size_t>((data[at] << 8) | data[at + 1], size - at - 2);
        messages.emplace_back(reinterpret_cast<const char*>(data + at + 2), n);
        at += 2 + n;
    }
    proto::wamp::router realm({.realm = "realm1", .anonymous = true, .max_queued = 64});
    other_session other(realm);
    realm.join(other);
    realm.subscribe(other, "a.topic");
    (void)realm.enroll(other, "a.procedure");
    memory_link link(std::move(messages), cbor);
    const proto::wamp::services_for_wamp services{realm, *w.backend, w.auth};
    bool done = false;
    net::co_spawn(w.io, proto::wamp::serve(link, services), [&](std::exception_ptr e) {
        if (e) {
            std::rethrow_exception(e);
        }
        done = true;
    });
    w.io.restart();  // it stops whenever it runs out of work
    while (!done && w.io.run_one() > 0) {
    }
    if (!done) {
        __builtin_trap();  // it waits for something that will never come
    }
    w.io.poll();
    realm.leave(other);
    if (realm.sessions() != 0) {
        __builtin_trap();  // the session left the router when it ended
    }
    return 0;
}
