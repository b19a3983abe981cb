#include "front/quick_commands.hpp"

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "front/unix_http.hpp"

namespace corral::cli::front {
namespace {

namespace json = boost::json;

// The full client's exit statuses (client/api_client.hpp): 1 for a job that does not exist.
constexpr int corral_failed = 125;
constexpr int usage_error = 2;
constexpr int not_found = 1;

/// Job replies are a few hundred bytes; a job's command and labels are capped by corrald's own limits.
constexpr std::size_t max_reply_body = 16 * 1024 * 1024;

std::optional<std::uint64_t> job_id(std::string_view text) {
    std::uint64_t id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc{} || end != text.data() + text.size() || id == 0) {
        return std::nullopt;
    }
    return id;
}

/// Takes `--socket PATH` or `--socket=PATH` at args[i]; false (and i unchanged) for anything else.
bool take_socket(std::span<char* const> args, std::size_t& i, std::string& socket) {
    const std::string_view a = args[i];
    if (a == "--socket" && i + 1 < args.size()) {
        socket = args[i + 1];
        i += 2;
        return true;
    }
    if (a.starts_with("--socket=")) {
        socket = a.substr(9);
        i += 1;
        return true;
    }
    return false;
}

/// corrald's `{"error": {"message"}}`, or the status line, as the full client words it.
std::string error_message(const http_reply& r) {
    boost::system::error_code ec;
    const auto v = json::parse(r.body, ec);
    if (!ec && v.is_object()) {
        if (const auto* e = v.get_object().if_contains("error"); e && e->is_object()) {
            if (const auto* m = e->get_object().if_contains("message"); m && m->is_string()) {
                return std::string(m->get_string());
            }
        }
    }
    return "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200);
}

std::string cannot_reach(const std::string& socket, const std::string& why) {
    return "cannot reach corrald at the socket " + socket + ": " + why +
           ". Is it running? Start it with `corrald run`.";
}

int fail(const char* command, const std::string& message, int status = corral_failed) {
    std::fprintf(stderr, "corral %s: %s\n", command, message.c_str());
    return status;
}

/// A request whose reply must be a success, as JSON: `reached` is false when corrald could not be
/// reached (nothing was sent); otherwise `value` holds the JSON, or `status` what the command exits
/// with after saying why.
struct json_call {
    bool reached = true;
    std::optional<json::value> value;
    int status = 0;
};

json_call call(const char* command,
               const std::string& socket,
               const quick_settings& settings,
               std::string_view method,
               const std::string& target,
               std::string_view body = {}) {
    json_call out;
    auto r = unix_request(socket, method, target, body, settings.token, max_reply_body);
    if (!r.connected) {
        out.reached = false;
        return out;
    }
    if (!r.error.empty()) {
        out.status = fail(command, r.error);
        return out;
    }
    if (!r.reply.ok()) {
        out.status = fail(command, error_message(r.reply), r.reply.status == 404 ? not_found : corral_failed);
        return out;
    }
    boost::system::error_code ec;
    auto v = json::parse(r.reply.body, ec);
    if (ec || !v.is_object()) {
        out.status = fail(command, "corrald's reply is not a JSON object: " + r.reply.body.substr(0, 200));
        return out;
    }
    out.value = std::move(v);
    return out;
}

void print_line(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
}

std::optional<int> kill_jobs(const std::vector<std::uint64_t>& ids,
                             const std::string& socket,
                             const quick_settings& settings) {
    int status = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const auto text = std::to_string(ids[i]);
        auto r = unix_request(
            socket, "POST", "/api/v1/jobs/" + text + "/kill", {}, settings.token, max_reply_body);
        if (!r.connected) {
            if (i == 0) {
                return std::nullopt;  // nothing was sent: the full client tries, and explains
            }
            return fail("kill", cannot_reach(socket, r.error));
        }
        if (!r.error.empty()) {
            return fail("kill", r.error);
        }
        if (!r.reply.ok()) {
            std::fprintf(stderr, "corral: job %s: %s\n", text.c_str(), error_message(r.reply).c_str());
            status = 1;
        }
    }
    return status;
}

std::optional<int> submit_job(std::span<char* const> command,
                              const std::string& socket,
                              const quick_settings& settings) {
    json::array argv;
    for (const char* word : command) {
        argv.emplace_back(word);
    }
    json::object body;
    body["command"] = std::move(argv);
    auto r = call("submit", socket, settings, "POST", "/api/v1/jobs", json::serialize(body));
    if (!r.reached) {
        return std::nullopt;
    }
    if (!r.value) {
        return r.status;
    }
    const auto* id = r.value->get_object().if_contains("id");
    boost::system::error_code ec;
    const auto number = id ? id->to_number<std::uint64_t>(ec) : 0;
    if (!id || ec) {
        return fail("submit", "corrald's reply has no job id");
    }
    print_line(std::to_string(number));
    return 0;
}

std::optional<int> show_job(std::uint64_t id,
                            const std::optional<std::string>& field,
                            const std::string& socket,
                            const quick_settings& settings) {
    auto r = call("show", socket, settings, "GET", "/api/v1/jobs/" + std::to_string(id));
    if (!r.reached) {
        return std::nullopt;
    }
    if (!r.value) {
        return r.status;
    }
    if (!field) {
        print_line(json::serialize(*r.value));
        return 0;
    }
    const auto* v = r.value->get_object().if_contains(*field);
    if (!v) {
        return fail("show", "a job has no field '" + *field + "'", usage_error);
    }
    print_line(v->is_string() ? std::string(v->get_string()) : json::serialize(*v));
    return 0;
}

}  // namespace

std::optional<int> run_quick_command(std::span<char* const> args, const quick_settings& settings) {
    std::string socket = settings.socket;
    std::size_t i = 0;
    while (i < args.size() && take_socket(args, i, socket)) {
    }
    if (i == args.size()) {
        return std::nullopt;
    }
    const std::string_view command = args[i++];
    if (command == "kill") {
        std::vector<std::uint64_t> ids;
        while (i < args.size()) {
            if (take_socket(args, i, socket)) {
                continue;
            }
            const auto id = job_id(args[i++]);
            if (!id) {
                return std::nullopt;  // an option, or not a job id: the full client parses it
            }
            ids.push_back(*id);
        }
        return ids.empty() ? std::nullopt : kill_jobs(ids, socket, settings);
    }
    if (command == "submit") {
        while (i < args.size() && take_socket(args, i, socket)) {
        }
        if (i < args.size() && std::string_view(args[i]) == "--") {
            ++i;
        } else if (i < args.size() && args[i][0] == '-') {
            return std::nullopt;  // a job option
        }
        return i == args.size() ? std::nullopt : submit_job(args.subspan(i), socket, settings);
    }
    if (command == "show") {
        std::optional<std::string> field;
        bool as_json = false;
        std::optional<std::uint64_t> id;
        while (i < args.size()) {
            const std::string_view a = args[i];
            if (take_socket(args, i, socket)) {
                continue;
            }
            if (a == "--field" && i + 1 < args.size()) {
                field = args[i + 1];
                i += 2;
            } else if (a.starts_with("--field=")) {
                field = a.substr(8);
                i += 1;
            } else if (a == "--json") {
                as_json = true;
                i += 1;
            } else if (auto n = job_id(a); n && !id) {
                id = n;
                i += 1;
            } else {
                return std::nullopt;
            }
        }
        if (!id || (!field && !as_json)) {
            return std::nullopt;  // the job's details as a table: the full client formats them
        }
        return show_job(*id, field, socket, settings);
    }
    return std::nullopt;
}

}  // namespace corral::cli::front
