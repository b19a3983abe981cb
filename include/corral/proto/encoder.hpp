#pragma once

#include <string>

#include "corral/jobs/job.hpp"
#include "corral/output/record.hpp"
#include "corral/services/events.hpp"

namespace corral::proto {

/**
 * How one wire writes what the core produces: numbered job events and pieces of job output. Each
 * wire has one (the native JSON over WebSocket and over SSE today; ASEXOR's JSON and CBOR and WAMP's
 * next), stateless and shared by every session that speaks it. The sessions and the subscription
 * code do not change when a wire is added: a session is given its encoder.
 *
 * output_frames caches output frames per encoder, so watchers of one job on one wire share each
 * frame's bytes, and watchers on different wires never see each other's.
 */
class encoder {
  public:
    virtual ~encoder() = default;
    /// Binary frames (CBOR) or text (JSON): how a WebSocket sends them.
    virtual bool binary() const = 0;
    /// A numbered job event. `j` is the job as it is now; null once retention let it go, when the
    /// event's own record says what is known.
    virtual std::string event(const jobs::job* j, const services::event_record& e) const = 0;
    /// One piece of job `id`'s output: bytes of one stream at `rec.offset` (output_log records,
    /// coalesced).
    virtual std::string output(jobs::job_id id, const output::record& rec) const = 0;
};

}  // namespace corral::proto
