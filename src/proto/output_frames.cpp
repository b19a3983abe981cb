#include "corral/proto/output_frames.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include "corral/proto/output_json.hpp"

namespace corral::proto {
namespace {

namespace json = boost::json;

// Expired entries are swept once the map has grown past this (or twice its size after the last sweep).
constexpr std::size_t min_prune_size = 1024;

}  // namespace

std::string serialize_frame(wire_format format,
                            const json::object& message,
                            std::string_view sse_event,
                            std::string_view sse_id) {
    if (format == wire_format::websocket) {
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

output_frames::slice output_frames::read(
    jobs::job_id id, const output::output_log& log, std::uint64_t from, std::size_t max, wire_format format) {
    const key k{id, from, max, format};
    if (auto it = entries_.find(k); it != entries_.end()) {
        const auto& e = it->second;
        // A full read stays valid; a short one only while nothing was appended after it.
        if (e.next - from >= max || e.log_end == log.end_offset()) {
            slice s{{}, e.next, 0, e.bytes};
            for (const auto& weak : e.frames) {
                if (auto f = weak.lock()) {
                    s.frames.push_back(std::move(f));
                } else {
                    s.frames.clear();
                    break;
                }
            }
            if (s.frames.size() == e.frames.size()) {
                return s;
            }
        }
    }
    auto r = log.read(from, max);
    slice s{{}, r.next, r.lost, 0};
    for (auto& rec : coalesce(std::move(r.records))) {
        s.bytes += rec.bytes.size();
        auto message = record_json(rec);
        message["type"] = "output";
        message["job"] = id;
        s.frames.push_back(std::make_shared<const std::string>(
            serialize_frame(format, message, "output", fmt::format("{}:{}", id, rec.end()))));
    }
    if (r.lost == 0 && !s.frames.empty()) {
        entry e{{}, s.next, s.bytes, log.end_offset()};
        e.frames.assign(s.frames.begin(), s.frames.end());
        entries_[k] = std::move(e);
        if (entries_.size() > prune_at_) {
            prune();
        }
    }
    return s;
}

void output_frames::prune() {
    std::erase_if(entries_, [](const auto& kv) {
        const auto& frames = kv.second.frames;
        return frames.empty() || frames.front().expired();
    });
    prune_at_ = std::max(min_prune_size, 2 * entries_.size());
}

}  // namespace corral::proto
