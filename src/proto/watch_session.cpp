#include "corral/proto/watch_session.hpp"

#include <fmt/format.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include "corral/jobs/job_json.hpp"

namespace corral::proto {
namespace {

namespace json = boost::json;
using namespace boost::asio::experimental::awaitable_operators;

// Events are small but unbounded in number: past this many buffers a watcher is closed whatever the
// policy, so memory stays bounded.
constexpr std::size_t event_overflow_factor = 4;
constexpr auto sse_keepalive = std::chrono::seconds(15);

std::string_view event_name(jobs::job_event e) {
    switch (e) {
        case jobs::job_event::queued:
            return "queued";
        case jobs::job_event::started:
            return "started";
        case jobs::job_event::progress:
            return "progress";
        case jobs::job_event::finished:
            return "finished";
    }
    return "event";
}

/// ASEXOR's status updates, on every event: started, progress, success (with the result) or error
/// (with the reason), each finished one with its duration in seconds.
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

}  // namespace

struct watch_session::follower {
    bool output = true;
    async_event cancelled;
    explicit follower(net::any_io_executor ex) : cancelled(std::move(ex)) {}
};

watch_session::watch_session(services::job_service& service,
                             watch_options options,
                             watch_stats& stats,
                             output_frames& frames,
                             wire format)
    : service_(service),
      options_(options),
      stats_(stats),
      frames_(frames),
      format_(format),
      queue_changed_(service.executor()),
      space_(service.executor()),
      followers_(service.executor()) {
    listener_ = service_.add_listener([this](const jobs::job& j, jobs::job_event e) { on_job_event(j, e); });
    ++stats_.watchers;
}

watch_session::~watch_session() {
    service_.remove_listener(listener_);
    --stats_.watchers;
}

void watch_session::subscribe(subscription s) {
    auto* j = service_.find(s.job);
    // A job the caller may not follow answers as a missing one: ids tell nothing of others' jobs.
    if (!j || (only_owner_ && j->owner != *only_owner_)) {
        send({{"type", "error"}, {"job", s.job}, {"code", "not_found"}, {"message", fmt::format("no job {}", s.job)}});
        return;
    }
    unsubscribe(s.job);
    auto f = std::make_shared<follower>(service_.executor());
    f->output = s.output;
    followed_[s.job] = f;
    if (format_ == wire::websocket) {
        send({{"type", "subscribed"}, {"job", s.job}, {"from", s.from}, {"output", s.output}});
    }
    send(event_message(*j, "state"), "state");
    if (s.output) {
        followers_.spawn(follow(s.job, s.from, f), fmt::format("watcher of job {}", s.job));
    } else if (jobs::is_finished(j->state)) {
        followed_.erase(s.job);
    }
}

void watch_session::unsubscribe(jobs::job_id id) {
    if (auto it = followed_.find(id); it != followed_.end()) {
        it->second->cancelled.notify_all();
        followed_.erase(it);
    }
}

void watch_session::on_job_event(const jobs::job& j, jobs::job_event e) {
    auto it = followed_.find(j.id);
    const bool followed = it != followed_.end();
    if (!followed && (!all_jobs_ || (only_owner_ && j.owner != *only_owner_))) {
        return;
    }
    if (e == jobs::job_event::finished && followed && it->second->output) {
        return;  // its follower sends "finished" after the last output, so the order is always right
    }
    send(event_message(j, event_name(e)), event_name(e));
    if (e == jobs::job_event::finished && followed) {
        followed_.erase(it);
    }
}

void watch_session::send(json::object message, std::string_view sse_event, std::string_view sse_id) {
    if (close_reason_) {
        return;
    }
    send(std::make_shared<const std::string>(serialize_frame(format_, message, sse_event, sse_id)));
}

void watch_session::send(output_frames::frame frame) {
    if (close_reason_) {
        return;
    }
    queued_bytes_ += frame->size();
    queue_.push_back(std::move(frame));
    queue_changed_.notify_all();
    if (queued_bytes_ > options_.buffer * event_overflow_factor) {
        close_slow(fmt::format("watcher too slow: more than {} bytes of events pending", queued_bytes_));
    }
}

void watch_session::close_slow(std::string reason) {
    if (!close_reason_) {
        close_reason_ = std::move(reason);
        queue_changed_.notify_all();
    }
}

net::awaitable<void> watch_session::follow(jobs::job_id id,
                                           std::uint64_t from,
                                           std::shared_ptr<follower> self) {
    auto* j = service_.find(id);
    if (!j) {
        co_return;
    }
    services::job_service::pin keep(service_, *j);
    auto& log = *j->log;
    auto cursor = from;
    for (;;) {
        if (followed_.count(id) == 0 || followed_[id] != self || close_reason_) {
            co_return;  // unsubscribed, resubscribed, or closing
        }
        if (queued_bytes_ >= options_.buffer) {
            if (options_.on_slow == slow_policy::disconnect) {
                close_slow(fmt::format(
                    "watcher too slow: {} bytes pending (limit {})", queued_bytes_, options_.buffer));
                co_return;
            }
            co_await (space_.wait() || self->cancelled.wait());
            continue;
        }
        if (service_.pressure().high() && options_.defer_to_jobs.count() > 0) {
            co_await defer_to_jobs();
            if (followed_.count(id) == 0 || followed_[id] != self || close_reason_) {
                co_return;
            }
        }
        // Always whole max_chunk reads (the queue may pass `buffer` by one), so that watchers at the
        // same cursor ask for the same slice and share its frames.
        auto slice = co_await frames_.read_async(id, log, cursor, options_.max_chunk, format_);
        if (followed_.count(id) == 0 || followed_[id] != self || close_reason_) {
            co_return;  // while a finished job's file was read
        }
        if (slice.lost > 0) {
            send({{"type", "lost"}, {"job", id}, {"offset", cursor}, {"bytes", slice.lost}}, "lost");
        }
        stats_.bytes_streamed += slice.bytes;
        for (auto& f : slice.frames) {
            send(std::move(f));
        }
        if (slice.next != cursor) {
            cursor = slice.next;
            continue;
        }
        if (log.closed()) {
            send({{"type", "eof"}, {"job", id}, {"offset", cursor}}, "eof", fmt::format("{}:{}", id, cursor));
            if (jobs::is_finished(j->state)) {
                send(event_message(*j, "finished"), "finished");
            }
            followed_.erase(id);
            co_return;
        }
        co_await (log.wait_for(cursor) || self->cancelled.wait());
    }
}

// Fan-out is work that can wait and a job's output is not: while a job pours out output, the core's
// time goes to taking it (jobs::output_pressure). A watcher waits at most defer_to_jobs per message,
// so even a job that never lets up cannot starve its watchers.
net::awaitable<void> watch_session::defer_to_jobs() {
    ++stats_.deferrals;
    co_await service_.pressure().wait_low(options_.defer_to_jobs);
}

void watch_session::handle_message(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        send({{"type", "error"},
              {"message",
               fmt::format("a message must be a JSON object ({})", ec ? ec.message() : "not an object")}});
        return;
    }
    auto& o = v.get_object();
    const auto* type = o.if_contains("type");
    const auto* job = o.if_contains("job");
    const auto* all = o.if_contains("all");
    const bool everything = all && all->is_bool() && all->get_bool();
    const bool has_job = job && (job->is_int64() || job->is_uint64()) && job->to_number<std::int64_t>() > 0;
    if (!type || !type->is_string() ||
        (type->get_string() != "subscribe" && type->get_string() != "unsubscribe")) {
        send({{"type", "error"}, {"message", "\"type\" must be \"subscribe\" or \"unsubscribe\""}});
        return;
    }
    if (!has_job && !everything) {
        send({{"type", "error"}, {"message", "give \"job\": ID (a positive integer) or \"all\": true"}});
        return;
    }
    const bool sub = type->get_string() == "subscribe";
    if (everything) {
        all_jobs_ = sub;
        if (format_ == wire::websocket) {
            send({{"type", sub ? "subscribed" : "unsubscribed"}, {"all", true}});
        }
        return;
    }
    const auto id = static_cast<jobs::job_id>(job->to_number<std::int64_t>());
    if (!sub) {
        unsubscribe(id);
        send({{"type", "unsubscribed"}, {"job", id}});
        return;
    }
    subscription s{id, 0, true};
    if (const auto* from = o.if_contains("from"); from && (from->is_int64() || from->is_uint64())) {
        s.from = static_cast<std::uint64_t>(std::max<std::int64_t>(0, from->to_number<std::int64_t>()));
    }
    if (const auto* output = o.if_contains("output"); output && output->is_bool()) {
        s.output = output->get_bool();
    }
    subscribe(s);
}

template <class Sender>
net::awaitable<void> watch_session::write_queue(Sender& send_one) {
    net::steady_timer keepalive(service_.executor());
    for (;;) {
        if (close_reason_) {
            co_return;
        }
        if (queue_.empty()) {
            keepalive.expires_after(sse_keepalive);
            co_await (queue_changed_.wait() || keepalive.async_wait(use_nothrow));
            if (queue_.empty() && !close_reason_ && format_ == wire::sse &&
                !(co_await send_one(": keepalive\n\n"))) {
                co_return;
            }
            continue;
        }
        if (service_.pressure().high() && options_.defer_to_jobs.count() > 0) {
            co_await defer_to_jobs();
            if (close_reason_ || queue_.empty()) {
                continue;
            }
        }
        auto frame = std::move(queue_.front());
        queue_.pop_front();
        queued_bytes_ -= frame->size();
        space_.notify_all();
        if (!(co_await send_one(*frame))) {
            co_return;
        }
    }
}

net::awaitable<void> watch_session::serve(http::message_channel& channel) {
    auto send_one = [&](std::string_view frame) { return channel.send(frame); };
    auto writer = [&]() -> net::awaitable<void> {
        co_await write_queue(send_one);
        if (close_reason_) {
            co_await channel.close(*close_reason_, true);
        }
    };
    followers_.spawn(writer(), "watcher writer");
    for (;;) {
        auto message = co_await channel.receive();
        if (!message) {
            break;
        }
        handle_message(*message);
    }
    close_slow("closed");
    followers_.cancel_all();
    co_await followers_.wait();
}

net::awaitable<void> watch_session::serve(http::event_stream& stream) {
    auto send_one = [&](std::string_view frame) { return stream.send(frame); };
    co_await write_queue(send_one);
    close_slow("closed");
    followers_.cancel_all();
    co_await followers_.wait();
}

}  // namespace corral::proto
