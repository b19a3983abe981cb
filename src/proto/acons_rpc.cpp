#include "corral/proto/acons_rpc.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "corral/output/ansi.hpp"
#include "corral/output/table.hpp"
#include "corral/proto/output_json.hpp"

namespace corral::proto {
namespace {

namespace json = boost::json;

/// A failed call: becomes `{"error": {"code": -1, "message": ...}}` as in acons.
struct rpc_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A Python-style signature check, so messages read as acons's did ("run() missing 1 required
/// positional argument: 'command'").
json::array bind_args(const json::value* params,
                      std::string_view method,
                      std::vector<std::string_view> names,
                      std::size_t required) {
    json::array args(names.size(), nullptr);
    if (params && params->is_array()) {
        const auto& given = params->get_array();
        if (given.size() > names.size()) {
            throw rpc_error(fmt::format("{}() takes {} positional argument{} but {} were given",
                                        method,
                                        names.size(),
                                        names.size() == 1 ? "" : "s",
                                        given.size()));
        }
        for (std::size_t i = 0; i < given.size(); ++i) {
            args[i] = given[i];
        }
        if (given.size() < required) {
            std::vector<std::string> missing;
            for (std::size_t i = given.size(); i < required; ++i) {
                missing.push_back(fmt::format("'{}'", names[i]));
            }
            throw rpc_error(fmt::format("{}() missing {} required positional argument{}: {}",
                                        method,
                                        missing.size(),
                                        missing.size() == 1 ? "" : "s",
                                        fmt::join(missing, " and ")));
        }
    } else if (params && params->is_object()) {
        for (const auto& [key, value] : params->get_object()) {
            auto it = std::find(names.begin(), names.end(), std::string_view(key));
            if (it == names.end()) {
                throw rpc_error(fmt::format(
                    "{}() got an unexpected keyword argument '{}'", method, std::string_view(key)));
            }
            args[static_cast<std::size_t>(it - names.begin())] = value;
        }
        for (std::size_t i = 0; i < required; ++i) {
            if (args[i].is_null()) {
                throw rpc_error(
                    fmt::format("{}() missing 1 required positional argument: '{}'", method, names[i]));
            }
        }
    } else if (params && !params->is_null()) {
        throw rpc_error("params must be an array (or an object of named arguments)");
    } else if (required > 0) {
        throw rpc_error(fmt::format(
            "{}() missing {} required positional argument{}", method, required, required == 1 ? "" : "s"));
    }
    return args;
}

std::string string_arg(const json::value& v, std::string_view name) {
    if (!v.is_string()) {
        throw rpc_error(fmt::format("{} must be a string", name));
    }
    return std::string(v.get_string());
}

/// Python truthiness for the few argument types acons's clients send.
bool truthy(const json::value& v) {
    if (v.is_bool())
        return v.get_bool();
    if (v.is_null())
        return false;
    if (v.is_number())
        return v.to_number<double>() != 0;
    if (v.is_string())
        return !v.get_string().empty();
    return true;
}

/// acons decoded output with errors="ignore": invalid bytes are dropped, so the reply is valid JSON.
std::string utf8_only(std::string_view bytes) {
    if (is_utf8(bytes)) {
        return std::string(bytes);
    }
    std::string out;
    for (std::size_t i = 0; i < bytes.size();) {
        std::size_t len = 1;
        const auto c = static_cast<unsigned char>(bytes[i]);
        len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        if (i + len <= bytes.size() && is_utf8(bytes.substr(i, len))) {
            out.append(bytes.substr(i, len));
            i += len;
        } else {
            ++i;
        }
    }
    return out;
}

std::string id_key(const json::value& v) {
    return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

json::value table_json(const output::table& t) {
    json::array rows;
    for (const auto& row : t.rows) {
        json::object o;
        for (std::size_t i = 0; i < t.columns.size(); ++i) {
            o[t.columns[i]] = row[i];
        }
        rows.push_back(std::move(o));
    }
    return rows;
}

/// What Python's subprocess reported: the exit code, or minus the signal (acons said null).
int python_returncode(const jobs::job& done) {
    if (done.exit) {
        if (const auto* e = std::get_if<proc::exited>(&done.exit->state())) {
            return e->code;
        }
        if (const auto* s = std::get_if<proc::signaled>(&done.exit->state())) {
            return -s->signal;
        }
    }
    return -1;
}

}  // namespace

struct acons_rpc::tracked {
    services::job_service::pin pin;
    output::line_view lines;
    bool taking = false;  // a flush is reading its lines (from file, off the core's thread)
    tracked(services::job_service& s, jobs::job& j)
        : pin(s, j), lines(*j.log, output::line_view::options{.strip_ansi = true}) {}
};

acons_rpc::acons_rpc(services::job_service& service, jobs::job_spec defaults, limits l)
    : service_(service), defaults_(std::move(defaults)), limits_(l) {}

acons_rpc::~acons_rpc() = default;

net::awaitable<json::object> acons_rpc::call(const json::object& envelope, const auth::identity& me) {
    json::object reply;
    const json::value id = envelope.contains("id") ? envelope.at("id") : json::value(nullptr);
    try {
        const auto* method_value = envelope.if_contains("method");
        if (!method_value || !method_value->is_string()) {
            throw rpc_error("method must be a string naming an acons function");
        }
        const std::string method(method_value->get_string());
        const auto* params = envelope.if_contains("params");
        json::value result;
        // Named vectors: g++ 12 rejects a braced list of strings inside a co_await expression.
        const std::vector<std::string_view> run_args{"command", "run_dir", "is_parse", "job_id"};
        const std::vector<std::string_view> sync_args{"command", "run_dir", "is_parse"};
        const std::vector<std::string_view> id_args{"job_id"};
        if (method == "os_run" || method == "run") {
            auto args = bind_args(params, method, run_args, 1);
            result = co_await run(args, method, me);
        } else if (method == "get_output" || method == "sync_run") {
            auto args = bind_args(params, method, sync_args, 1);
            args.emplace_back(nullptr);
            result = co_await run(args, method, me);
        } else if (method == "flush_console_lines" || method == "flush_lines") {
            result = co_await flush_lines(me, bind_args(params, method, id_args, 1)[0]);
        } else if (method == "kill_job") {
            result = kill(me, bind_args(params, method, {"job_id"}, 1)[0]);
        } else if (method == "escape_ansi") {
            result = output::strip_ansi(string_arg(bind_args(params, method, {"line"}, 1)[0], "line"));
        } else if (method == "parse_output_table") {
            result =
                table_json(output::parse_table(string_arg(bind_args(params, method, {"txt"}, 1)[0], "txt")));
        } else {
            throw rpc_error(fmt::format("rpc-run {} is not found", method));
        }
        reply["result"] = std::move(result);
    } catch (const rpc_error& e) {
        reply["error"] = {{"code", -1}, {"message", e.what()}};
    }
    reply["jsonrpc"] = "2.0";
    reply["id"] = id;
    co_return reply;
}

net::awaitable<json::value> acons_rpc::run(const json::array& args,
                                           std::string_view method,
                                           const auth::identity& me) {
    services::submit_request request;
    request.spec = defaults_;
    request.spec.process.shell_command = string_arg(args[0], "command");  // acons ran it with shell=True
    request.spec.process.output = proc::output_mode::merged;              // and stderr=STDOUT
    if (truthy(args[1])) {
        request.spec.process.cwd = string_arg(args[1], "run_dir");  // per job; never the daemon's own chdir
    }
    const bool is_parse = truthy(args[2]);
    request.spec.labels["acons"] = std::string(method);
    // As the caller (rights, owner, priority), and acknowledged once committed, as every adapter.
    std::vector<services::submit_request> one;
    one.push_back(std::move(request));
    auto submitted = co_await service_.submit_as(me, std::move(one));
    if (!submitted) {
        throw rpc_error(submitted.error().what());
    }
    auto& j = submitted->jobs.front()->get();
    services::job_service::pin keep(service_, j);
    if (!args[3].is_null() && truthy(args[3])) {
        track(me, args[3], j);
    }
    const auto id = j.id;
    while (!co_await service_.wait_finished(id, std::chrono::hours(24))) {
    }
    auto& done = keep.get();
    if (done.start_error) {
        throw rpc_error(done.reason);
    }
    auto text = co_await last_output(done);
    auto output = utf8_only(output::strip_ansi(text));
    const int exit_code = python_returncode(done);
    json::object result{{"exitCode", exit_code}, {"output", output}};
    if (is_parse && exit_code == 0) {
        result["table"] = table_json(output::parse_table(output));
    }
    co_return result;
}

void acons_rpc::track(const auth::identity& me, const json::value& client_id, jobs::job& j) {
    auto key = me.user + '\x1f' + id_key(client_id);
    if (tracked_.erase(key) == 0) {
        order_.push_back(key);
    }
    tracked_[key] = std::make_shared<tracked>(service_, j);
    while (order_.size() > max_tracked) {
        tracked_.erase(order_.front());
        order_.pop_front();
    }
}

net::awaitable<std::string> acons_rpc::last_output(const jobs::job& done) const {
    // The reply carries the last limits_.output bytes: acons put the whole output in one string,
    // which for a chatty job is unbounded memory on the daemon's thread.
    std::string text;
    const auto end = done.log->end_offset();
    const auto start = std::max(done.log->first_offset(), end > limits_.output ? end - limits_.output : 0);
    if (start > 0) {
        text = fmt::format(
            "[corral: the first {} bytes of output are not in this reply; "
            "GET /api/v1/jobs/{}/output has them while the job is kept]\n",
            start,
            done.id);
    }
    for (std::uint64_t from = start; from < end;) {
        auto slice = co_await done.log->read_async(from, end - from);
        for (const auto& r : slice.records) {
            text += r.bytes;
        }
        if (slice.next == from) {
            break;
        }
        from = slice.next;
    }
    co_return text;
}

std::shared_ptr<acons_rpc::tracked> acons_rpc::find(const auth::identity& me, const json::value& client_id) {
    auto it = tracked_.find(me.user + '\x1f' + id_key(client_id));
    return it == tracked_.end() ? nullptr : it->second;
}

net::awaitable<json::value> acons_rpc::flush_lines(const auth::identity& me, json::value client_id) {
    json::array lines;
    // Held while it reads: a later run with the same id may replace it meanwhile. A second flush of
    // the same id while one reads gets [] (its lines come with the next call), never the same lines.
    if (auto t = find(me, client_id); t && !t->taking) {
        t->taking = true;
        struct done_taking {
            tracked& t;
            ~done_taking() { t.taking = false; }
        } guard{*t};
        auto taken = co_await t->lines.take_async(limits_.flush);
        for (auto& line : taken) {
            lines.emplace_back(utf8_only(line));
        }
    }
    co_return lines;  // an unknown id flushes [] as in acons
}

json::value acons_rpc::kill(const auth::identity& me, const json::value& client_id) {
    if (auto t = find(me, client_id)) {
        (void)service_.kill(t->pin.get(), std::nullopt, std::nullopt, me.user);
    }
    return nullptr;
}

net::awaitable<http::reply> acons_rpc::serve(http::request& req,
                                             const http::peer&,
                                             const auth::identity& me,
                                             const target&) {
    if (req.method() != http::verb::post) {
        auto r = error_reply(http::status::method_not_allowed,
                             "method_not_allowed",
                             fmt::format("{} /rpc-run takes POST only", std::string_view(req.method_string())));
        r.head.set(boost::beast::http::field::allow, "POST");
        co_return r;
    }
    if (auto bad = require_body_type(req, {"application/json"})) {
        co_return *bad;
    }
    http::reply error;
    auto body = parse_json(req.body(), error);
    if (!body) {
        co_return error;
    }
    if (!body->is_object()) {
        co_return error_reply(http::status::unprocessable_entity,
                              "invalid_rpc",
                              "the body must be a JSON-RPC object {\"id\", \"method\", \"params\"}");
    }
    co_return json_reply(http::status::ok, co_await call(body->get_object(), me));
}

}  // namespace corral::proto
