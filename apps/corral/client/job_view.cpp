#include "client/job_view.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace corral::cli {
namespace {

namespace json = boost::json;

std::string text(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null())
        return "-";
    if (v->is_string())
        return std::string(v->get_string());
    return json::serialize(*v);
}

std::string quote(std::string_view arg) {
    if (!arg.empty() && arg.find_first_of(" \t\n'\"\\$`*?&;|<>()[]{}!#~") == std::string_view::npos) {
        return std::string(arg);
    }
    std::string out = "'";
    for (char c : arg) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

std::string exit_text(const json::object& job) {
    const auto* e = job.if_contains("exit");
    if (!e || !e->is_object())
        return "-";
    const auto& x = e->get_object();
    if (x.contains("code"))
        return text(x, "code");
    return text(x, "signal");
}

std::string duration_text(const json::object& job) {
    const auto* d = job.if_contains("duration_ms");
    if (!d || !d->is_number())
        return "-";
    const auto ms = d->to_number<double>();
    return ms < 1000    ? fmt::format("{}ms", ms)
           : ms < 60000 ? fmt::format("{:.1f}s", ms / 1000)
                        : fmt::format("{:.1f}m", ms / 60000);
}

}  // namespace

int job_exit_status(const json::object& job) {
    const auto state = text(job, "state");
    if (state == "timed_out")
        return 124;
    if (const auto* e = job.if_contains("exit"); e && e->is_object()) {
        const auto& x = e->get_object();
        if (const auto* c = x.if_contains("code"))
            return static_cast<int>(c->to_number<std::int64_t>());
        if (const auto* s = x.if_contains("signal_number"))
            return 128 + static_cast<int>(s->to_number<std::int64_t>());
    }
    if (state == "succeeded")
        return 0;
    if (state == "killed")
        return 137;
    return text(job, "reason").find("not found") != std::string::npos ? 127 : 126;
}

std::string command_line(const json::object& job) {
    if (const auto* shell = job.if_contains("shell"); shell && shell->is_string()) {
        return std::string(shell->get_string());
    }
    std::vector<std::string> parts;
    if (const auto* argv = job.if_contains("command"); argv && argv->is_array()) {
        for (const auto& a : argv->get_array()) {
            parts.push_back(quote(a.is_string() ? std::string_view(a.get_string()) : std::string_view("?")));
        }
    }
    return fmt::format("{}", fmt::join(parts, " "));
}

std::string format_job_table(const json::array& jobs, std::size_t width) {
    std::vector<std::array<std::string, 7>> rows{
        {"ID", "STATE", "EXIT", "OWNER", "CREATED", "DURATION", "COMMAND"}};
    for (const auto& v : jobs) {
        const auto& j = v.get_object();
        auto created = text(j, "created");
        if (created.size() >= 19)
            created = created.substr(0, 10) + " " + created.substr(11, 8);
        rows.push_back({text(j, "id"),
                        text(j, "state"),
                        exit_text(j),
                        text(j, "owner"),
                        created,
                        duration_text(j),
                        command_line(j)});
    }
    std::array<std::size_t, 7> widths{};
    for (const auto& r : rows) {
        for (std::size_t i = 0; i < r.size(); ++i)
            widths[i] = std::max(widths[i], r[i].size());
    }
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t i = 0; i + 1 < r.size(); ++i) {
            line += fmt::format("{:<{}}  ", r[i], widths[i]);
        }
        line += r.back();
        if (width > 0 && line.size() > width) {
            line = line.substr(0, width - 1) + "…";
        }
        out += line + "\n";
    }
    return out;
}

std::string format_job_details(const json::object& job) {
    std::string out;
    for (const auto& [key, value] : job) {
        if (key == "attempts" && value.is_array()) {  // one line each: "1  failed  exited with code 3"
            for (const auto& a : value.get_array()) {
                const auto& o = a.as_object();
                out += fmt::format("{:<12} {}  {}  {}\n",
                                   &a == &value.get_array().front() ? "attempts:" : "",
                                   json::serialize(o.at("attempt")),
                                   std::string_view(o.at("state").as_string()),
                                   std::string_view(o.at("reason").as_string()));
            }
            continue;
        }
        out += fmt::format("{:<12} {}\n",
                           std::string(key) + ":",
                           key == "command"    ? command_line(job)
                           : value.is_string() ? std::string(value.get_string())
                                               : json::serialize(value));
    }
    return out;
}

}  // namespace corral::cli
