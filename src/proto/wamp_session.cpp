// One WAMP connection: the opening handshake, then messages routed through the realm's router.
#include "corral/proto/wamp_session.hpp"

#include <deque>
#include <variant>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>

#include "corral/core/task_group.hpp"

namespace corral::proto::wamp {
namespace {

namespace json = boost::json;

constexpr std::uint64_t max_id = std::uint64_t{1} << 53;

json::array make(code c, std::initializer_list<json::value> items) {
    json::array m{static_cast<std::int64_t>(c)};
    for (const auto& v : items) {
        m.push_back(v);
    }
    return m;
}

json::array abort_message(std::string_view uri, std::string_view why) {
    return make(code::abort, {json::object{{"message", why}}, json::string(uri)});
}

json::array error_for(code request_type, std::uint64_t request, std::string_view uri, std::string_view why = {}) {
    auto m = make(code::error, {static_cast<std::int64_t>(request_type), request, json::object{}, json::string(uri)});
    if (!why.empty()) {
        m.push_back(json::array{json::string(why)});
    }
    return m;
}

/// A received message's fields, each checked for its type; the first problem is kept.
class fields {
  public:
    explicit fields(const json::array& m) : m_(m) {}
    std::uint64_t id(std::size_t i) {
        if (i < m_.size() && m_[i].is_number()) {
            boost::system::error_code ec;
            const auto v = m_[i].to_number<std::uint64_t>(ec);
            if (!ec && v <= max_id) {
                return v;
            }
        }
        fail(i, "an id (an integer from 0 to 2^53)");
        return 0;
    }
    const json::object& object(std::size_t i) {
        if (i < m_.size() && m_[i].is_object()) {
            return m_[i].as_object();
        }
        fail(i, "a dictionary");
        return empty_;
    }
    std::string uri(std::size_t i) {
        if (i < m_.size() && m_[i].is_string() && valid_uri(m_[i].as_string())) {
            return std::string(m_[i].as_string());
        }
        fail(i, "a URI");
        return {};
    }
    /// Optional trailing arguments: null when absent.
    const json::array* args(std::size_t i) {
        if (i >= m_.size()) {
            return nullptr;
        }
        if (!m_[i].is_array()) {
            fail(i, "a list of arguments");
            return nullptr;
        }
        return &m_[i].as_array();
    }
    const json::object* kwargs(std::size_t i) {
        if (i >= m_.size()) {
            return nullptr;
        }
        if (!m_[i].is_object()) {
            fail(i, "a dictionary of keyword arguments");
            return nullptr;
        }
        return &m_[i].as_object();
    }
    const std::string& problem() const { return problem_; }

  private:
    void fail(std::size_t i, std::string_view what) {
        if (problem_.empty()) {
            problem_ = fmt::format("item {} must be {}", i, what);
        }
    }
    const json::array& m_;
    json::object empty_;
    std::string problem_;
};

class connection final : public peer {
  public:
    connection(link& l, const services_for_wamp& s) : link_(l), s_(s) {}
    ~connection() override {
        if (joined_) {
            s_.realm.leave(*this);
        }
    }

    void deliver(json::array m) override {
        if (outbox_.size() >= s_.realm.options().max_queued) {
            finish(abort_message("wamp.error.canceled", "too slow: too many messages queued"));
            return;
        }
        outbox_.push_back(std::move(m));
        wake();
    }

    net::awaitable<void> run() {
        auto who = co_await open();
        if (!who) {
            co_return;
        }
        auto executor = co_await net::this_coro::executor;
        task_group writers(executor);
        writers.spawn(writer(), "wamp writer");
        std::exception_ptr failure;
        try {
            while (!stop_) {
                auto m = co_await receive();
                if (!m) {
                    break;
                }
                co_await dispatch(*m);
            }
        } catch (...) {
            failure = std::current_exception();  // cancelled: corrald is stopping
            finish(make(code::goodbye, {json::object{}, "wamp.close.system_shutdown"}));
        }
        stop_ = true;
        wake();
        co_await net::this_coro::throw_if_cancelled(false);
        co_await net::this_coro::reset_cancellation_state(net::disable_cancellation());
        co_await writers.wait();
        tasks_->subscription().close("its WAMP session ended");
        if (failure) {
            std::rethrow_exception(failure);
        }
    }

  private:
    void wake() {
        if (tasks_) {
            tasks_->subscription().wake();
        }
    }
    /// Sends `last` after what is queued, then the connection closes.
    void finish(json::array last) {
        if (!last_) {
            last_ = std::move(last);
        }
        stop_ = true;
        wake();
    }
    void violation(std::string why) {
        spdlog::info("wamp {}: protocol violation: {}", link_.where(), why);
        finish(abort_message("wamp.error.protocol_violation", why));
    }

    net::awaitable<bool> send_now(const json::value& m) {
        const auto bytes = link_.cbor() ? asexor::to_cbor(m) : json::serialize(m);
        co_return co_await link_.send(bytes);
    }

    /// The next message as a list; nullopt when the connection ended, or (after an ABORT is queued)
    /// when it could not be read.
    net::awaitable<std::optional<json::array>> receive() {
        auto bytes = co_await link_.receive();
        if (!bytes) {
            co_return std::nullopt;
        }
        json::value v;
        if (link_.cbor()) {
            auto decoded = asexor::from_cbor(*bytes);
            if (!decoded) {
                violation(fmt::format("not CBOR: {}", decoded.error().what()));
                co_return std::nullopt;
            }
            v = std::move(*decoded);
        } else {
            boost::system::error_code ec;
            v = json::parse(*bytes, ec);
            if (ec) {
                violation(fmt::format("not JSON: {}", ec.message()));
                co_return std::nullopt;
            }
        }
        if (!v.is_array() || v.as_array().empty() || !(v.as_array()[0].is_int64() || v.as_array()[0].is_uint64())) {
            violation("a message is a list whose first item is its type code");
            co_return std::nullopt;
        }
        json::array m = std::move(v.as_array());
        boost::system::error_code ec;
        const auto type = m[0].to_number<std::int64_t>(ec);  // CBOR's unsigned integers read as uint64
        if (ec) {
            violation("a message is a list whose first item is its type code");
            co_return std::nullopt;
        }
        m[0] = type;
        co_return m;
    }

    struct refusal {
        std::string uri;
        std::string why;
    };
    struct admission {
        auth::identity who;
        std::string method;
    };

    /// HELLO, then the ticket's CHALLENGE and AUTHENTICATE (or anonymous): who the client is.
    net::awaitable<std::variant<admission, refusal>> authenticate() {
        auto hello = co_await receive();
        if (!hello || (*hello)[0] != static_cast<std::int64_t>(code::hello)) {
            co_return refusal{"wamp.error.protocol_violation", last_ ? "the first message was unreadable" : "expected HELLO first"};
        }
        fields f(*hello);
        const auto realm = f.uri(1);
        const auto& details = f.object(2);
        if (!f.problem().empty()) {
            co_return refusal{"wamp.error.protocol_violation", "HELLO: " + f.problem()};
        }
        if (realm != s_.realm.options().realm) {
            co_return refusal{"wamp.error.no_such_realm", fmt::format("no realm '{}' here", realm)};
        }
        std::vector<std::string> methods;
        if (const auto* m = details.if_contains("authmethods"); m && m->is_array()) {
            for (const auto& v : m->as_array()) {
                if (v.is_string()) {
                    methods.emplace_back(v.as_string());
                }
            }
        }
        const auto* authid = details.if_contains("authid");
        auto offered = [&](std::string_view m) { return std::find(methods.begin(), methods.end(), m) != methods.end(); };
        if (offered("ticket")) {
            const auto challenge = make(code::challenge, {"ticket", json::object{}});
            co_await send_now(challenge);
            auto answer = co_await receive();
            if (!answer || (*answer)[0] != static_cast<std::int64_t>(code::authenticate) || answer->size() < 2 ||
                !(*answer)[1].is_string()) {
                co_return refusal{"wamp.error.protocol_violation", "expected AUTHENTICATE with the ticket"};
            }
            auto who = s_.auth.identify(std::string_view((*answer)[1].as_string()), std::nullopt);
            if (!who) {
                co_return refusal{"wamp.error.authentication_failed", "the ticket is not a valid token"};
            }
            if (authid && authid->is_string() && authid->as_string() != who->user) {
                co_return refusal{"wamp.error.authentication_failed",
                                  fmt::format("the ticket is not {}'s", std::string_view(authid->as_string()))};
            }
            co_return admission{*who, "ticket"};
        }
        if (s_.realm.options().anonymous && (methods.empty() || offered("anonymous"))) {
            auto who = s_.auth.identify(std::nullopt, std::nullopt);
            if (!who) {
                co_return refusal{"wamp.error.not_authorized", "anonymous sessions need auth.anonymous_role"};
            }
            co_return admission{*who, "anonymous"};
        }
        co_return refusal{"wamp.error.not_authorized",
                          "authenticate with ticket (the ticket is a corral token, the authid its user)"};
    }

    /// The opening: authentication, then WELCOME. nullopt (having sent ABORT) when refused.
    net::awaitable<std::optional<auth::identity>> open() {
        auto outcome = co_await authenticate();
        std::optional<std::string> method;
        std::optional<auth::identity> who;
        std::optional<refusal> refused;
        if (auto* ok = std::get_if<admission>(&outcome)) {
            who = ok->who;
            method = ok->method;
            auto sub = asexor::open_subscription(s_.tasks, *who, false);
            if (sub) {
                tasks_ = std::make_unique<asexor::session>(s_.tasks, *who, *sub);
            } else {
                refused = refusal{"wamp.error.system_shutdown", sub.error().what()};
            }
        } else {
            refused = std::get<refusal>(outcome);
        }
        if (refused) {
            spdlog::info("wamp {}: refused: {}", link_.where(), refused->why);
            const auto abort = abort_message(refused->uri, refused->why);
            co_await send_now(abort);
            co_await link_.close();
            co_return std::nullopt;
        }
        const auto id = s_.realm.join(*this);
        joined_ = true;
        json::object features;
        features["publisher_exclusion"] = true;
        features["subscriber_blackwhite_listing"] = true;
        json::object roles;
        roles["broker"] = json::object{{"features", std::move(features)}};
        roles["dealer"] = json::object{{"features", json::object{}}};
        json::object details_out;
        details_out["authid"] = who->user;
        details_out["authrole"] = who->role_name();
        details_out["authmethod"] = *method;
        details_out["authprovider"] = "corral";
        details_out["roles"] = std::move(roles);
        const auto welcome = make(code::welcome, {id, std::move(details_out)});
        if (!co_await send_now(welcome)) {
            co_return std::nullopt;
        }
        co_return *who;
    }

    net::awaitable<void> run_task(std::uint64_t request, const json::array* args, const json::object* kwargs) {
        if (!args || args->empty() || !(*args)[0].is_string()) {
            outbox_.push_back(error_for(code::call, request, "wamp.error.invalid_argument", "the first argument is the task's name"));
            wake();
            co_return;
        }
        json::object payload;
        if (args->size() > 1) {
            payload["args"] = json::array(args->begin() + 1, args->end());
        }
        if (kwargs && !kwargs->empty()) {
            payload["kwargs"] = *kwargs;
        }
        const json::value call{request, (*args)[0], std::move(payload)};
        co_await tasks_->call(call);
    }

    net::awaitable<void> dispatch(json::array& m) {
        fields f(m);
        const auto type = static_cast<code>(m[0].as_int64());
        const auto& options = s_.realm.options();
        auto queue = [&](json::array reply) {
            outbox_.push_back(std::move(reply));
            wake();
        };
        switch (type) {
            case code::goodbye:
                finish(make(code::goodbye, {json::object{}, "wamp.close.goodbye_and_out"}));
                co_return;
            case code::abort:  // the client gave up: nothing to answer
                stop_ = true;
                wake();
                co_return;
            case code::subscribe: {
                const auto request = f.id(1);
                (void)f.object(2);
                const auto topic = f.uri(3);
                if (f.problem().empty()) {
                    queue(make(code::subscribed, {request, s_.realm.subscribe(*this, topic)}));
                }
                break;
            }
            case code::unsubscribe: {
                const auto request = f.id(1);
                const auto subscription = f.id(2);
                if (f.problem().empty()) {
                    queue(s_.realm.unsubscribe(*this, subscription)
                              ? make(code::unsubscribed, {request})
                              : error_for(code::unsubscribe, request, "wamp.error.no_such_subscription"));
                }
                break;
            }
            case code::publish: {
                const auto request = f.id(1);
                const auto& opts = f.object(2);
                const auto topic = f.uri(3);
                const auto* args = f.args(4);
                const auto* kwargs = f.kwargs(5);
                if (!f.problem().empty()) {
                    break;
                }
                if (topic == options.task_update) {
                    queue(error_for(code::publish, request, "wamp.error.not_authorized", "only corrald publishes task updates"));
                    break;
                }
                const auto publication = s_.realm.publish(*this, topic, opts, args, kwargs);
                if (const auto* ack = opts.if_contains("acknowledge"); ack && ack->is_bool() && ack->as_bool()) {
                    queue(make(code::published, {request, publication}));
                }
                break;
            }
            case code::call: {
                const auto request = f.id(1);
                (void)f.object(2);
                const auto procedure = f.uri(3);
                const auto* args = f.args(4);
                const auto* kwargs = f.kwargs(5);
                if (!f.problem().empty()) {
                    break;
                }
                if (procedure == options.run_task) {
                    co_await run_task(request, args, kwargs);
                } else if (!s_.realm.call(*this, request, procedure, args, kwargs)) {
                    queue(error_for(code::call, request, "wamp.error.no_such_procedure"));
                }
                break;
            }
            case code::register_: {
                const auto request = f.id(1);
                (void)f.object(2);
                const auto procedure = f.uri(3);
                if (!f.problem().empty()) {
                    break;
                }
                auto enrolled = s_.realm.enroll(*this, procedure);
                queue(std::holds_alternative<std::uint64_t>(enrolled)
                          ? make(code::registered, {request, std::get<std::uint64_t>(enrolled)})
                          : error_for(code::register_, request, std::get<std::string>(enrolled)));
                break;
            }
            case code::unregister: {
                const auto request = f.id(1);
                const auto registration = f.id(2);
                if (f.problem().empty()) {
                    queue(s_.realm.unregister(*this, registration)
                              ? make(code::unregistered, {request})
                              : error_for(code::unregister, request, "wamp.error.no_such_registration"));
                }
                break;
            }
            case code::yield: {
                const auto invocation = f.id(1);
                (void)f.object(2);
                const auto* args = f.args(3);
                const auto* kwargs = f.kwargs(4);
                if (f.problem().empty()) {
                    (void)s_.realm.answer(*this, invocation, {}, nullptr, args, kwargs);  // a late one is dropped
                }
                break;
            }
            case code::error: {
                const auto request_type = f.id(1);
                const auto invocation = f.id(2);
                const auto& details = f.object(3);
                const auto uri = f.uri(4);
                const auto* args = f.args(5);
                const auto* kwargs = f.kwargs(6);
                if (f.problem().empty() && request_type == static_cast<std::uint64_t>(code::invocation)) {
                    (void)s_.realm.answer(*this, invocation, details, &uri, args, kwargs);
                }
                break;
            }
            default:
                violation(fmt::format("message type {} is not one a client sends in a session", m[0].as_int64()));
                co_return;
        }
        if (!f.problem().empty()) {
            violation(fmt::format("message type {}: {}", m[0].as_int64(), f.problem()));
        }
    }

    /// ASEXOR's messages for this session's task calls, as WAMP: a RESULT, an ERROR, or an EVENT of
    /// the update topic when the session subscribed to it.
    std::optional<json::array> translate(const json::value& v) {
        const auto& a = v.as_array();
        const auto request = a[1].to_number<std::uint64_t>();
        if (a[0] == "r") {
            return make(code::result, {request, json::object{}, json::array{a[2]}});
        }
        if (a[0] == "e") {
            return error_for(code::call, request, "wamp.error.runtime_error", a[2].as_string());
        }
        const auto subscription = s_.realm.subscription_of(*this, s_.realm.options().task_update);
        if (!subscription) {
            return std::nullopt;
        }
        auto data = a[2].as_object();
        const auto task_id = data["task_id"];
        data.erase("task_id");
        return make(code::event, {*subscription, s_.realm.next_publication(), json::object{}, json::array{task_id}, std::move(data)});
    }

    net::awaitable<void> writer() {
        for (;;) {
            while (!outbox_.empty()) {
                auto m = std::move(outbox_.front());
                outbox_.pop_front();
                if (!co_await send_now(m)) {
                    co_return;
                }
            }
            for (const auto& v : tasks_->take()) {
                if (auto m = translate(v)) {
                    if (!co_await send_now(*m)) {
                        co_return;
                    }
                }
            }
            if (!outbox_.empty() || tasks_->has_pending()) {
                continue;
            }
            if (stop_) {
                break;
            }
            co_await tasks_->wait();
        }
        if (last_) {
            co_await send_now(*last_);
        }
        co_await link_.close();
    }

    link& link_;
    const services_for_wamp& s_;
    std::deque<json::array> outbox_;
    std::unique_ptr<asexor::session> tasks_;
    std::optional<json::array> last_;
    bool stop_ = false;
    bool joined_ = false;
};

}  // namespace

net::awaitable<void> serve(link& l, const services_for_wamp& s) {
    connection c(l, s);
    co_await c.run();
}

}  // namespace corral::proto::wamp
