#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "corral/proto/encoder.hpp"

namespace corral::proto {

/// How a native stream's messages are framed (docs/protocol.md, "Streams").
enum class wire_format { websocket, sse };

/**
 * The native stream's JSON messages: `{"type": "event", ...}` and `{"type": "output", ...}` as
 * WebSocket text messages, or as SSE events (`event:` the message's name, `id:` where a reader
 * resumes). Besides the encoder's two kinds of message the native session sends its own (subscribed,
 * eof, lost, error), which message() frames the same way.
 */
class native_encoder final : public encoder {
  public:
    /// The one encoder of each format.
    static const native_encoder& of(wire_format format);

    bool binary() const override { return false; }
    std::string event(const jobs::job* j, const services::event_record& e) const override;
    std::string output(jobs::job_id id, const output::record& rec) const override;

    /// `message` as a frame; for SSE, `sse_event` names it (else its "type") and `sse_id` gives
    /// its `id:` line.
    std::string message(const boost::json::object& message,
                        std::string_view sse_event = {},
                        std::string_view sse_id = {}) const;
    wire_format format() const { return format_; }

  private:
    explicit native_encoder(wire_format format) : format_(format) {}
    wire_format format_;
};

/// A job's event as the native stream describes it (ASEXOR's status vocabulary): started,
/// progress, success (with the result) or error (with the reason), each finished one with its
/// duration in seconds; `state` is a snapshot.
boost::json::object event_message(const jobs::job& j, std::string_view event);

}  // namespace corral::proto
