// The native stream's JSON messages, framed for WebSocket or SSE.
#include "corral/proto/native_encoder.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include "corral/jobs/job_json.hpp"
#include "corral/proto/output_json.hpp"

namespace corral::proto {

namespace json = boost::json;

json::object event_message(const jobs::job& j, std::string_view event) {
    json::object m{{"type", "event"}, {"event", event}, {"job", jobs::to_json(j)}};
    if (event == "finished") {
        const bool ok = j.state == jobs::job_state::succeeded;
        m["status"] = ok ? "success" : "error";
        if (ok) {
            m["result"] = j.result;
        } else {
            m["error"] = j.reason;
        }
        const auto end = j.finished.value_or(jobs::clock::now());
        m["duration"] = std::chrono::duration<double>(end - j.started.value_or(end)).count();
    } else {
        m["status"] = event;
        if (event == "progress") {
            m["progress"] = j.progress.value_or(0.0);
        }
    }
    return m;
}

const native_encoder& native_encoder::of(wire_format format) {
    static const native_encoder websocket(wire_format::websocket);
    static const native_encoder sse(wire_format::sse);
    return format == wire_format::websocket ? websocket : sse;
}

std::string native_encoder::message(const json::object& message,
                                    std::string_view sse_event,
                                    std::string_view sse_id) const {
    if (format_ == wire_format::websocket) {
        return json::serialize(message);
    }
    std::string_view type = sse_event;
    if (type.empty()) {
        const auto* t = message.if_contains("type");
        type = t && t->is_string() ? std::string_view(t->get_string()) : std::string_view("message");
    }
    return fmt::format("{}event: {}\ndata: {}\n\n",
                       sse_id.empty() ? "" : fmt::format("id: {}\n", sse_id),
                       type,
                       json::serialize(message));
}

/// The job as it is now, and when and in what order the event happened. A job retention has let go
/// is described by what the event itself says.
std::string native_encoder::event(const jobs::job* j, const services::event_record& e) const {
    const auto name = services::event_name(e.kind);
    json::object m;
    if (j) {
        m = event_message(*j, name);
    } else {
        m = {{"type", "event"},
             {"event", name},
             {"status", name},
             {"job", json::object{{"id", e.job}, {"owner", e.owner}, {"state", jobs::to_string(e.state)}}}};
    }
    m["seq"] = e.seq;
    m["time"] = jobs::format_time(e.time);
    return message(m, name);
}

std::string native_encoder::output(jobs::job_id id, const output::record& rec) const {
    auto m = record_json(rec);
    m["type"] = "output";
    m["job"] = id;
    return message(m, "output", fmt::format("{}:{}", id, rec.end()));
}

}  // namespace corral::proto
