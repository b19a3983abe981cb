// ASEXOR's long-poll on arbitrary requests: GETs and POSTs with or without a token and a cookie (the
// session's, a stale or a mangled one), bodies of any bytes. Nothing crashes or leaks; every request
// is answered (a poll with nothing to return ends at once here: the poll timeout is 0).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/field.hpp>

#include "corral/proto/asexor_long_poll.hpp"

namespace {

using namespace corral;

struct world {
    net::io_context io{1};
    std::unique_ptr<services::job_service> service;
    tasks::task_catalog catalog;
    jobs::job_spec defaults;
    auth::authority auth;
    std::string token;
    std::unique_ptr<proto::asexor::backend> backend;
    std::unique_ptr<proto::asexor::long_poll_route> route;

    world() {
        spdlog::set_level(spdlog::level::warn);  // a refusal per input is logged at info
        services::service_options options;
        options.subscriptions.linger = std::chrono::milliseconds(0);
        service = std::move(services::job_service::create(io.get_executor(), options).value());
        const std::string file = "/tmp/corral-long-poll-fuzz.token";
        token = auth::ensure_admin_token(file).value();
        (void)auth.use_admin_token(file, "admin").value();
        backend = std::make_unique<proto::asexor::backend>(proto::asexor::backend{*service, catalog, defaults, auth});
        route = std::make_unique<proto::asexor::long_poll_route>(
            *backend, auth, service->blocking_executor(),
            proto::asexor::long_poll_options{.poll_timeout = std::chrono::seconds(0), .max_sessions = 8});
    }
};

/// The cookie header of the last reply that set one.
std::string last_cookie;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static world& w = *new world;  // never destroyed: the service expects its io_context to have stopped first
    // Requests, each: a flags byte, a 2-byte length, the body.
    for (std::size_t at = 0; at + 3 <= size;) {
        const auto flags = data[at];
        const std::size_t n = std::min<std::size_t>((data[at + 1] << 8) | data[at + 2], size - at - 3);
        std::string body(reinterpret_cast<const char*>(data + at + 3), n);
        at += 3 + n;

        http::request req;
        req.method(flags & 1 ? http::verb::post : (flags & 16 ? http::verb::put : http::verb::get));
        req.target(flags & 32 ? "/other" : "/");
        req.set(boost::beast::http::field::content_type, flags & 64 ? "text/plain" : "application/json");
        if (flags & 2) {
            req.set(boost::beast::http::field::authorization, "Bearer " + (flags & 128 ? std::string("nope") : w.token));
        }
        if (flags & 4) {
            req.set(boost::beast::http::field::cookie, last_cookie);
        } else if (flags & 8) {
            req.set(boost::beast::http::field::cookie, body.substr(0, 64));  // a cookie header of any bytes
        }
        req.body() = body;
        req.prepare_payload();
        std::string error;
        auto t = proto::parse_target(req.target(), error);
        if (!t) {
            continue;
        }
        bool done = false;
        http::reply reply;
        const http::peer nobody{};  // outlives the request, as a connection's peer does
        const auth::identity anyone{};
        net::co_spawn(w.io, w.route->serve(req, nobody, anyone, *t), [&](std::exception_ptr e, http::reply r) {
            if (e) {
                std::rethrow_exception(e);
            }
            reply = std::move(r);
            done = true;
        });
        w.io.restart();  // it stops whenever it runs out of work
        while (!done && w.io.run_one() > 0) {
        }
        if (!done) {
            __builtin_trap();  // it waits for something that will never come
        }
        const auto status = reply.head.result_int();
        if (status != 200 && status != 400 && status != 401 && status != 404 && status != 405 && status != 415 &&
            status != 503) {
            __builtin_trap();  // every request gets one of the answers the route gives
        }
        if (auto it = reply.head.find(boost::beast::http::field::set_cookie); it != reply.head.end()) {
            const std::string_view v = it->value();
            last_cookie = std::string(v.substr(0, v.find(';')));
        }
    }
    w.io.poll();
    if (w.route->sessions() > 8) {
        __builtin_trap();  // max_sessions holds
    }
    return 0;
}
