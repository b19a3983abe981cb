#include "corral/jobs/workflow_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "corral/core/parse.hpp"
#include "corral/jobs/job_json.hpp"
#include "corral/jobs/job_spec_json.hpp"

namespace corral::jobs {
namespace {

namespace json = boost::json;

error_info invalid(std::string message) {
    return error_info{errc::invalid_spec, std::move(message)};
}

// "1s", "250ms" or a number of seconds.
result_info<std::chrono::milliseconds> duration_of(const json::value& v, std::string_view field) {
    std::string text;
    if (v.is_string()) {
        text = v.get_string();
    } else if (v.is_number()) {
        text = fmt::format("{}", v.to_number<double>());
    } else {
        return invalid(fmt::format("{}: must be a duration such as \"5s\" or a number of seconds", field));
    }
    auto d = parse_duration(text);
    if (!d) {
        return invalid(fmt::format("{}: {}", field, d.error().what()));
    }
    return *d;
}

std::string ms_text(std::chrono::milliseconds d) {
    return fmt::format("{}ms", d.count());
}

std::optional<std::int64_t> whole_number(const json::value& v) {
    if (v.is_int64()) {
        return v.get_int64();
    }
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v.get_uint64());
    }
    if (v.is_double() && std::floor(v.get_double()) == v.get_double() && std::abs(v.get_double()) < 1e15) {
        return static_cast<std::int64_t>(v.get_double());
    }
    return std::nullopt;
}

}  // namespace

bool retry_policy::retries(job_state s) const {
    return (s == job_state::failed && on_failed) || (s == job_state::timed_out && on_timed_out) ||
           (s == job_state::lost && on_lost);
}

std::chrono::milliseconds retry_policy::wait_before(unsigned next) const {
    auto wait = backoff;
    for (unsigned k = 2; k < next && wait < max_backoff; ++k) {
        wait *= 2;
    }
    return std::min(wait, max_backoff);
}

result_info<retry_policy> retry_from_json(const json::value& v) {
    retry_policy r;
    if (auto n = whole_number(v)) {
        if (*n < 1 || *n > max_attempts) {
            return invalid(fmt::format("retry: attempts must be from 1 to {}, not {}", max_attempts, *n));
        }
        r.attempts = static_cast<unsigned>(*n);
        return r;
    }
    if (!v.is_object()) {
        return invalid("retry: must be an object such as {\"attempts\": 3, \"backoff\": \"1s\"} or a number of attempts");
    }
    const auto& o = v.get_object();
    for (const auto& [key, value] : o) {
        if (key != "attempts" && key != "backoff" && key != "max_backoff" && key != "jitter" && key != "on") {
            return invalid(fmt::format("retry.{}: unknown field (attempts, backoff, max_backoff, jitter, on)",
                                       std::string_view(key)));
        }
    }
    if (const auto* a = o.if_contains("attempts")) {
        auto n = whole_number(*a);
        if (!n || *n < 1 || *n > max_attempts) {
            return invalid(fmt::format("retry.attempts: must be a whole number from 1 to {} (attempts in all, "
                                       "the first included), not {}",
                                       max_attempts,
                                       json::serialize(*a)));
        }
        r.attempts = static_cast<unsigned>(*n);
    } else {
        return invalid("retry.attempts: required: how many attempts in all, the first included");
    }
    if (const auto* b = o.if_contains("backoff")) {
        auto d = duration_of(*b, "retry.backoff");
        if (!d) {
            return d.error();
        }
        r.backoff = *d;
    }
    if (const auto* b = o.if_contains("max_backoff")) {
        auto d = duration_of(*b, "retry.max_backoff");
        if (!d) {
            return d.error();
        }
        r.max_backoff = *d;
    }
    if (r.max_backoff < r.backoff) {
        return invalid(fmt::format("retry.max_backoff: {} is less than backoff {}",
                                   format_duration(r.max_backoff),
                                   format_duration(r.backoff)));
    }
    if (const auto* j = o.if_contains("jitter")) {
        if (!j->is_number() || j->to_number<double>() < 0 || j->to_number<double>() > 1) {
            return invalid(fmt::format("retry.jitter: must be a fraction from 0 to 1, not {}", json::serialize(*j)));
        }
        r.jitter = j->to_number<double>();
    }
    if (const auto* on = o.if_contains("on")) {
        if (!on->is_array()) {
            return invalid("retry.on: must be an array of states: failed, timed_out, lost");
        }
        r.on_failed = r.on_timed_out = r.on_lost = false;
        for (const auto& s : on->get_array()) {
            const auto name = s.is_string() ? std::string_view(s.get_string()) : std::string_view();
            if (name == "failed") {
                r.on_failed = true;
            } else if (name == "timed_out") {
                r.on_timed_out = true;
            } else if (name == "lost") {
                r.on_lost = true;
            } else {
                return invalid(fmt::format("retry.on: {} is not failed, timed_out or lost (a kill is never "
                                           "retried: it stops the retries)",
                                           json::serialize(s)));
            }
        }
    }
    return r;
}

json::object retry_to_json(const retry_policy& r) {
    json::array on;
    if (r.on_failed) {
        on.emplace_back("failed");
    }
    if (r.on_timed_out) {
        on.emplace_back("timed_out");
    }
    if (r.on_lost) {
        on.emplace_back("lost");
    }
    return {{"attempts", r.attempts},
            {"backoff", ms_text(r.backoff)},
            {"max_backoff", ms_text(r.max_backoff)},
            {"jitter", r.jitter},
            {"on", std::move(on)}};
}

result_info<finish_hook> hook_from_json(const json::value& v) {
    finish_hook h;
    json::object o;
    if (v.is_string()) {
        o["url"] = v;
    } else if (v.is_array()) {
        o["command"] = v;
    } else if (v.is_object()) {
        o = v.get_object();
    } else {
        return invalid("on_finish: must be an object {\"command\": [...]} or {\"url\": \"http://...\"}");
    }
    for (const auto& [key, value] : o) {
        if (key != "command" && key != "url" && key != "timeout" && key != "attempts" && key != "secret") {
            return invalid(fmt::format("on_finish.{}: unknown field (command, url, timeout, attempts, secret)",
                                       std::string_view(key)));
        }
    }
    if (const auto* c = o.if_contains("command")) {
        if (!c->is_array() || c->get_array().empty() || c->get_array().size() > 256) {
            return invalid("on_finish.command: must be an argv array of 1 to 256 strings");
        }
        for (const auto& word : c->get_array()) {
            if (!word.is_string() || word.get_string().size() > 4096 ||
                word.get_string().find('\0') != json::string_view::npos) {
                return invalid("on_finish.command: every word must be a string of at most 4096 bytes, without NUL");
            }
            h.command.emplace_back(word.get_string());
        }
        if (h.command.front().empty()) {
            return invalid("on_finish.command: the program name must not be empty");
        }
    }
    if (const auto* u = o.if_contains("url")) {
        if (!u->is_string() || u->get_string().size() > 2048) {
            return invalid("on_finish.url: must be a string of at most 2048 bytes");
        }
        h.url = u->get_string();
        if (!h.url.starts_with("http://") && !h.url.starts_with("https://")) {
            return invalid(fmt::format("on_finish.url: '{}' is not an http:// or https:// URL", h.url));
        }
    }
    if (h.empty()) {
        return invalid("on_finish: give a command, a url, or both");
    }
    if (const auto* t = o.if_contains("timeout")) {
        auto d = duration_of(*t, "on_finish.timeout");
        if (!d) {
            return d.error();
        }
        if (d->count() == 0 || *d > std::chrono::hours(1)) {
            return invalid("on_finish.timeout: must be more than 0 and at most 1h");
        }
        h.timeout = *d;
    }
    if (const auto* a = o.if_contains("attempts")) {
        auto n = whole_number(*a);
        if (!n || *n < 1 || *n > 10) {
            return invalid("on_finish.attempts: must be a whole number from 1 to 10");
        }
        h.attempts = static_cast<unsigned>(*n);
    }
    if (const auto* s = o.if_contains("secret")) {
        if (!s->is_string() || s->get_string().size() > 1024 ||
            s->get_string().find_first_of("\r\n") != json::string_view::npos) {
            return invalid("on_finish.secret: must be a string of at most 1024 bytes on one line");
        }
        h.secret = s->get_string();
    }
    return h;
}

json::object hook_to_json(const finish_hook& h, bool with_secret) {
    json::object o;
    if (!h.command.empty()) {
        json::array argv;
        for (const auto& w : h.command) {
            argv.emplace_back(w);
        }
        o["command"] = std::move(argv);
    }
    if (!h.url.empty()) {
        o["url"] = h.url;
    }
    o["timeout"] = ms_text(h.timeout);
    o["attempts"] = h.attempts;
    if (with_secret) {
        o["secret"] = h.secret;
    } else if (!h.secret.empty()) {
        o["secret"] = true;
    }
    return o;
}

result_info<std::vector<job_id>> ids_from_json(const json::value& v) {
    std::vector<job_id> ids;
    auto add = [&](std::int64_t n) -> bool {
        if (n < 1) {
            return false;
        }
        ids.push_back(static_cast<job_id>(n));
        return true;
    };
    if (v.is_string()) {
        std::string_view text = v.get_string();
        while (!text.empty()) {
            const auto comma = text.find(',');
            auto word = text.substr(0, comma);
            text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
            std::int64_t n = 0;
            auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), n);
            if (word.empty() || ec != std::errc() || end != word.data() + word.size() || !add(n)) {
                return invalid(fmt::format("'{}' is not a job id", word));
            }
        }
    } else if (v.is_array()) {
        for (const auto& e : v.get_array()) {
            auto n = whole_number(e);
            if (!n || !add(*n)) {
                return invalid(fmt::format("{} is not a job id", json::serialize(e)));
            }
        }
    } else if (auto n = whole_number(v); n && add(*n)) {
    } else {
        return invalid("must be an array of job ids, such as [12, 13]");
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (ids.size() > max_dependencies) {
        return invalid(fmt::format("more than {} job ids", max_dependencies));
    }
    return ids;
}

json::array ids_to_json(const std::vector<job_id>& ids) {
    json::array out;
    out.reserve(ids.size());
    for (auto id : ids) {
        out.emplace_back(id);
    }
    return out;
}

json::array attempts_to_json(const std::vector<attempt_record>& attempts, bool for_people) {
    json::array out;
    for (const auto& a : attempts) {
        json::object o{{"attempt", a.number},
                       {"state", to_string(a.state)},
                       {"reason", a.reason},
                       {"exit", exit_to_json(a.exit)},
                       {"output_from", a.output_from},
                       {"output_to", a.output_to}};
        auto time = [&](const std::optional<clock::time_point>& t) -> json::value {
            if (!t) {
                return nullptr;
            }
            if (for_people) {
                return json::value(format_time(*t));
            }
            return json::value(std::chrono::duration_cast<std::chrono::nanoseconds>(t->time_since_epoch()).count());
        };
        o["started"] = time(a.started);
        o["finished"] = time(a.finished);
        out.push_back(std::move(o));
    }
    return out;
}

std::vector<attempt_record> attempts_from_json(const json::value& v) {
    std::vector<attempt_record> out;
    const auto* list = v.if_array();
    if (!list) {
        return out;
    }
    auto number = [](const json::object& o, std::string_view key) -> std::optional<std::int64_t> {
        const auto* x = o.if_contains(key);
        return x ? whole_number(*x) : std::nullopt;
    };
    auto time = [&](const json::object& o, std::string_view key) -> std::optional<clock::time_point> {
        auto ns = number(o, key);
        if (!ns) {
            return std::nullopt;
        }
        return clock::time_point(std::chrono::duration_cast<clock::duration>(std::chrono::nanoseconds(*ns)));
    };
    for (const auto& e : *list) {
        const auto* o = e.if_object();
        if (!o) {
            continue;
        }
        attempt_record a;
        a.number = static_cast<unsigned>(number(*o, "attempt").value_or(1));
        const auto* state = o->if_contains("state");
        a.state = state && state->is_string() ? job_state_from_string(state->get_string()).value_or(job_state::failed)
                                              : job_state::failed;
        if (const auto* r = o->if_contains("reason"); r && r->is_string()) {
            a.reason = r->get_string();
        }
        if (const auto* x = o->if_contains("exit")) {
            a.exit = exit_from_json(*x);
        }
        a.started = time(*o, "started");
        a.finished = time(*o, "finished");
        a.output_from = static_cast<std::uint64_t>(number(*o, "output_from").value_or(0));
        a.output_to = static_cast<std::uint64_t>(number(*o, "output_to").value_or(0));
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace corral::jobs
