// The built-in WAMP router's broker and dealer.
#include "corral/proto/wamp_router.hpp"

#include <sys/random.h>

#include <algorithm>

namespace corral::proto::wamp {
namespace json = boost::json;

namespace {

json::array message(code c) {
    return json::array{static_cast<std::int64_t>(c)};
}

/// Appends args and kwargs as the spec wants them: kwargs only with args, both only when given.
void append_payload(json::array& m, const json::array* args, const json::object* kwargs) {
    if (args || kwargs) {
        m.push_back(args ? json::value(*args) : json::value(json::array{}));
    }
    if (kwargs) {
        m.push_back(*kwargs);
    }
}

bool contains_id(const json::object& options, std::string_view key, std::uint64_t id) {
    const auto* list = options.if_contains(key);
    if (!list || !list->is_array()) {
        return false;
    }
    return std::any_of(list->as_array().begin(), list->as_array().end(), [&](const json::value& v) {
        return v.is_number() && v.to_number<std::uint64_t>() == id;
    });
}

}  // namespace

bool valid_uri(std::string_view uri) {
    if (uri.empty() || uri.size() > 512 || uri.front() == '.' || uri.back() == '.' ||
        uri.find("..") != std::string_view::npos) {
        return false;
    }
    return std::none_of(uri.begin(), uri.end(), [](char c) {
        return c == ' ' || c == '#' || static_cast<unsigned char>(c) < 0x20;
    });
}

std::uint64_t router::join(peer& p) {
    std::uint64_t id = 0;
    while (id == 0 || peers_.count(id)) {
        (void)::getrandom(&id, sizeof id, 0);
        id &= (std::uint64_t{1} << 53) - 1;
    }
    p.id_ = id;
    peers_[id] = &p;
    return id;
}

void router::leave(peer& p) {
    peers_.erase(p.id_);
    for (auto it = topics_.begin(); it != topics_.end();) {
        it->second.subscribers.erase(&p);
        if (it->second.subscribers.empty()) {
            topic_by_id_.erase(it->second.id);
            it = topics_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = registrations_.begin(); it != registrations_.end();) {
        if (it->second.callee == &p) {
            registration_by_procedure_.erase(it->second.procedure);
            it = registrations_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = calls_.begin(); it != calls_.end();) {
        if (it->second.callee == &p) {
            auto m = message(code::error);
            m.push_back(static_cast<std::int64_t>(code::call));
            m.push_back(it->second.request);
            m.push_back(json::object{});
            m.push_back("wamp.error.canceled");
            m.push_back(json::array{"the callee left"});
            it->second.caller->deliver(std::move(m));
        }
        if (it->second.callee == &p || it->second.caller == &p) {
            it = calls_.erase(it);
        } else {
            ++it;
        }
    }
}

std::uint64_t router::subscribe(peer& p, const std::string& topic) {
    auto& entry = topics_[topic];
    if (entry.id == 0) {
        entry.id = ++next_id_;
        topic_by_id_[entry.id] = topic;
    }
    entry.subscribers.insert(&p);
    return entry.id;
}

bool router::unsubscribe(peer& p, std::uint64_t subscription) {
    auto name = topic_by_id_.find(subscription);
    if (name == topic_by_id_.end()) {
        return false;
    }
    auto topic = topics_.find(name->second);
    if (topic->second.subscribers.erase(&p) == 0) {
        return false;
    }
    if (topic->second.subscribers.empty()) {
        topics_.erase(topic);
        topic_by_id_.erase(name);
    }
    return true;
}

std::optional<std::uint64_t> router::subscription_of(const peer& p, const std::string& topic) const {
    auto it = topics_.find(topic);
    if (it == topics_.end() || !it->second.subscribers.count(const_cast<peer*>(&p))) {
        return std::nullopt;
    }
    return it->second.id;
}

std::uint64_t router::publish(peer& from,
                              const std::string& topic,
                              const json::object& options,
                              const json::array* args,
                              const json::object* kwargs) {
    const auto publication = next_publication();
    auto it = topics_.find(topic);
    if (it == topics_.end()) {
        return publication;
    }
    const auto* exclude_me = options.if_contains("exclude_me");
    const bool skip_self = !(exclude_me && exclude_me->is_bool() && !exclude_me->as_bool());
    const bool has_eligible = options.contains("eligible");
    for (auto* s : it->second.subscribers) {
        if ((skip_self && s == &from) || (has_eligible && !contains_id(options, "eligible", s->id_)) ||
            contains_id(options, "exclude", s->id_)) {
            continue;
        }
        auto m = message(code::event);
        m.push_back(it->second.id);
        m.push_back(publication);
        m.push_back(json::object{});
        append_payload(m, args, kwargs);
        s->deliver(std::move(m));
    }
    return publication;
}

std::variant<std::uint64_t, std::string> router::enroll(peer& p, const std::string& procedure) {
    if (procedure == options_.run_task || procedure.starts_with("wamp.")) {
        return std::string("wamp.error.not_authorized");
    }
    if (registration_by_procedure_.count(procedure)) {
        return std::string("wamp.error.procedure_already_exists");
    }
    const auto id = ++next_id_;
    registrations_[id] = {procedure, &p};
    registration_by_procedure_[procedure] = id;
    return id;
}

bool router::unregister(peer& p, std::uint64_t id) {
    auto it = registrations_.find(id);
    if (it == registrations_.end() || it->second.callee != &p) {
        return false;
    }
    registration_by_procedure_.erase(it->second.procedure);
    registrations_.erase(it);
    return true;
}

bool router::call(peer& caller,
                  std::uint64_t request,
                  const std::string& procedure,
                  const json::array* args,
                  const json::object* kwargs) {
    auto it = registration_by_procedure_.find(procedure);
    if (it == registration_by_procedure_.end()) {
        return false;
    }
    auto& callee = *registrations_.at(it->second).callee;
    const auto invocation = ++next_id_;
    calls_[invocation] = {&caller, request, &callee};
    auto m = message(code::invocation);
    m.push_back(invocation);
    m.push_back(it->second);
    m.push_back(json::object{});
    append_payload(m, args, kwargs);
    callee.deliver(std::move(m));
    return true;
}

bool router::answer(peer& callee,
                    std::uint64_t invocation,
                    const json::object& details,
                    const std::string* error_uri,
                    const json::array* args,
                    const json::object* kwargs) {
    auto it = calls_.find(invocation);
    if (it == calls_.end() || it->second.callee != &callee) {
        return false;
    }
    auto m = message(error_uri ? code::error : code::result);
    if (error_uri) {
        m.push_back(static_cast<std::int64_t>(code::call));
    }
    m.push_back(it->second.request);
    m.push_back(error_uri ? details : json::object{});
    if (error_uri) {
        m.push_back(json::string(*error_uri));
    }
    append_payload(m, args, kwargs);
    it->second.caller->deliver(std::move(m));
    calls_.erase(it);
    return true;
}

}  // namespace corral::proto::wamp
