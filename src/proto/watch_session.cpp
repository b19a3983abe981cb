#include "corral/proto/watch_session.hpp"

#include <fmt/format.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>

#include "corral/jobs/job_json.hpp"

#include <span>


namespace corral::proto {
namespace {

namespace json = boost::json;
using namespace boost::asio::experimental::awaitable_operators;

// Events are small but unbounded in number: past this many buffers a watcher is closed whatever the
// policy, so memory stays bounded.
constexpr std::size_t event_overflow_factor = 4;
constexpr auto sse_keepalive = std::chrono::seconds(15);

}  // namespace

struct watch_session::follower {
    async_event cancelled;
    /// The job had not finished when it was followed: its "finished" event is still to come, and
    /// since this follower sends "finished" after the last output, that event is skipped.
    bool event_due = true;
    explicit follower(net::any_io_executor ex) : cancelled(std::move(ex)) {}
};

watch_session::watch_session(services::job_service& service,
                             auth::identity who,
                             std::shared_ptr<services::subscription> sub,
                             watch_options options,
                             watch_stats& stats,
                             output_frames& frames,
                             wire format)
    : service_(service),
      who_(std::move(who)),
      sub_(std::move(sub)),
      reader_(sub_),
      options_(options),
      stats_(stats),
      frames_(frames),
      format_(format),
      encoder_(native_encoder::of(format)),
      space_(service.executor()),
      followers_(service.executor()),
      stdin_done_(service.executor()) {
    ++stats_.watchers;
    follow_resumed();
}

watch_session::~watch_session() {
    --stats_.watchers;
}

void watch_session::follow_resumed() {
    for (const auto& [id, how] : sub_->followed()) {
        if (how.output) {
            start_follower(id, how.cursor, true);
        }
    }
}

void watch_session::start_follower(jobs::job_id id, std::uint64_t from, bool resumed) {
    if (auto it = followers_by_job_.find(id); it != followers_by_job_.end()) {
        it->second->cancelled.notify_all();
    }
    auto f = std::make_shared<follower>(service_.executor());
    const auto* j = service_.find(id);
    // A resumed subscription may hold the event of a job that finished while nobody read it.
    f->event_due = resumed || (j && !jobs::is_finished(j->state));
    followers_by_job_[id] = f;
    followers_.spawn(follow(id, from, f), fmt::format("watcher of job {}", id));
}

void watch_session::subscribe(follow_request r) {
    auto job = service_.follow_as(who_, *sub_, r.job, r.output, r.from);
    if (!job) {  // a job the caller may not see answers as a missing one
        send({{"type", "error"}, {"job", r.job}, {"code", "not_found"}, {"message", job.error().what()}});
        return;
    }
    const auto& j = (*job)->get();
    if (auto it = followers_by_job_.find(r.job); it != followers_by_job_.end()) {
        it->second->cancelled.notify_all();
        followers_by_job_.erase(it);
    }
    if (format_ == wire::websocket) {
        send({{"type", "subscribed"},
              {"job", r.job},
              {"from", r.from},
              {"output", r.output},
              {"session", sub_->id()}});
    }
    send(event_message(j, "state"), "state");
    if (r.output) {
        start_follower(r.job, r.from, false);
    } else if (jobs::is_finished(j.state)) {
        sub_->unfollow(r.job);
    }
}

void watch_session::unsubscribe(jobs::job_id id) {
    if (auto it = followers_by_job_.find(id); it != followers_by_job_.end()) {
        it->second->cancelled.notify_all();
        followers_by_job_.erase(it);
    }
    sub_->unfollow(id);
}

std::vector<watch_session::event_frame> watch_session::take_events() {
    auto batch = sub_->take();
    std::vector<event_frame> frames;
    if (batch.lost > 0) {
        // The events before these were dropped (the subscription fell behind): re-read job states.
        const auto before = batch.events.empty() ? sub_->cursor() + 1 : batch.events.front()->seq;
        frames.push_back({std::make_shared<const std::string>(encoder_.message(
                              json::object{{"type", "events_lost"}, {"count", batch.lost}, {"before", before}})),
                          nullptr});
    }
    for (auto& e : batch.events) {
        if (e->service) {
            frames.push_back({std::make_shared<const std::string>(encoder_.message(service_message(*e), "service")),
                              std::move(e)});
            continue;
        }
        if (e->kind == jobs::job_event::finished) {
            // An output follower sends "finished" after the job's last output, so the order is right.
            if (auto it = followers_by_job_.find(e->job); it != followers_by_job_.end()) {
                it->second->event_due = false;
                continue;
            }
            if (ended_.erase(e->job) != 0) {
                continue;
            }
        }
        frames.push_back({std::make_shared<const std::string>(encoder_.event(service_.find(e->job), *e)),
                          std::move(e)});
    }
    return frames;
}

json::object watch_session::service_message(const services::event_record& e) {
    const auto& s = *e.service;
    return {{"type", "service"},
            {"seq", e.seq},
            {"time", jobs::format_time(e.time)},
            {"service", s.name},
            {"state", s.state},
            {"event", s.kind},
            {"detail", s.detail},
            {"job", e.job}};
}

net::awaitable<void> watch_session::write_stdin(jobs::job_id id, std::string data, bool close) {
    // Writes of one session take turns: this one waits for those before it.
    const auto turn = next_stdin_turn_++;
    while (stdin_turn_ != turn) {
        co_await stdin_done_.wait();
    }
    struct next_turn {
        watch_session& s;
        ~next_turn() {
            ++s.stdin_turn_;
            s.stdin_done_.notify_all();
        }
    } on_exit{*this};
    auto refuse = [&](std::string_view code, std::string message) {
        send({{"type", "error"}, {"job", id}, {"code", code}, {"message", std::move(message)}});
    };
    auto job = service_.control_as(who_, id);  // the job service decides who may write
    if (!job) {
        refuse(job.error().code == errc::forbidden ? "forbidden" : "not_found", job.error().what());
        co_return;
    }
    auto& j = (*job)->get();
    if (j.state != jobs::job_state::running || j.spec.process.input != proc::input_mode::pipe) {
        refuse("stdin_closed",
               fmt::format("job {} has no open stdin: it must be running and submitted with \"stdin\": \"pipe\"", id));
        co_return;
    }
    const auto n = data.size();
    if (n > 0) {
        auto written = co_await service_.write_stdin(j, std::move(data), options_.stdin_timeout);
        if (!written) {
            refuse(written.error() == net::error::timed_out ? "stdin_timeout" : "stdin_closed",
                   fmt::format("writing to job {}'s stdin failed: {}", id, written.error().message()));
            co_return;
        }
    }
    if (close) {
        (void)service_.close_stdin((*job)->get());
    }
    send({{"type", "stdin"}, {"job", id}, {"written", n}, {"closed", close}});
}

bool watch_session::subscribe_services(bool on) {
    if (auto ok = service_.follow_services_as(who_, *sub_, on); !ok) {
        send({{"type", "error"}, {"code", "forbidden"}, {"message", ok.error().what()}});
        return false;
    }
    if (format_ == wire::websocket) {
        send({{"type", on ? "subscribed" : "unsubscribed"}, {"services", true}, {"session", sub_->id()}});
    }
    return true;
}

void watch_session::send(json::object message, std::string_view sse_event, std::string_view sse_id) {
    send(outgoing{std::make_shared<const std::string>(encoder_.message(message, sse_event, sse_id))});
}

void watch_session::send(outgoing message) {
    if (close_reason_) {
        return;
    }
    queued_bytes_ += message.frame->size();
    queue_.push_back(std::move(message));
    sub_->wake();
    if (queued_bytes_ > options_.buffer * event_overflow_factor) {
        close_slow(fmt::format("watcher too slow: more than {} bytes of messages pending", queued_bytes_));
    }
}

void watch_session::close_slow(std::string reason) {
    end_with(http::close_code::policy_violation, std::move(reason));
}

void watch_session::end_with(http::close_code code, std::string reason) {
    if (!close_reason_) {
        close_reason_ = std::move(reason);
        close_code_ = code;
        sub_->wake();
    }
}

bool watch_session::stopping() const {
    return close_reason_ || !reader_.current() || sub_->closed();
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
    auto gone = [&] {  // unsubscribed, resubscribed, or closing
        auto it = followers_by_job_.find(id);
        return it == followers_by_job_.end() || it->second != self || stopping();
    };
    for (;;) {
        if (gone()) {
            co_return;
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
            if (gone()) {
                co_return;
            }
        }
        // Always whole max_chunk reads (the queue may pass `buffer` by one), so that watchers at the
        // same cursor ask for the same slice and share its frames.
        auto slice = co_await frames_.read_async(id, log, cursor, options_.max_chunk, encoder_);
        if (gone()) {
            co_return;  // while a finished job's file was read
        }
        const auto next = slice.next;
        send_slice(id, cursor, std::move(slice));
        if (next != cursor) {
            cursor = next;
            continue;
        }
        if (log.closed()) {
            end_follow(*j, cursor, *self);
            co_return;
        }
        co_await (log.wait_for(cursor) || self->cancelled.wait());
    }
}

void watch_session::send_slice(jobs::job_id id, std::uint64_t cursor, output_frames::slice slice) {
    if (slice.lost > 0) {
        send({{"type", "lost"}, {"job", id}, {"offset", cursor}, {"bytes", slice.lost}}, "lost");
    }
    stats_.bytes_streamed += slice.bytes;
    for (std::size_t i = 0; i < slice.frames.size(); ++i) {
        send(outgoing{std::move(slice.frames[i]), id, slice.ends[i]});
    }
}

void watch_session::end_follow(const jobs::job& j, std::uint64_t cursor, const follower& self) {
    send({{"type", "eof"}, {"job", j.id}, {"offset", cursor}}, "eof", fmt::format("{}:{}", j.id, cursor));
    if (jobs::is_finished(j.state)) {
        send(event_message(j, "finished"), "finished");
        if (self.event_due) {
            ended_.insert(j.id);  // its "finished" event is still to come: skip it
        }
    }
    followers_by_job_.erase(j.id);
    sub_->unfollow(j.id);
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
    if (type && type->is_string() && type->get_string() == "stdin") {
        const auto* data = o.if_contains("data");
        const auto* close = o.if_contains("close");
        if (!job || !(job->is_int64() || job->is_uint64()) || job->to_number<std::int64_t>() <= 0 ||
            (data && !data->is_string()) || (close && !close->is_bool())) {
            send({{"type", "error"},
                  {"message", "stdin takes \"job\": ID, \"data\": TEXT and \"close\": true|false"}});
            return;
        }
        // A member coroutine: g++ 12 loses a coroutine lambda's by-value arguments at -O2.
        auto writing = write_stdin(static_cast<jobs::job_id>(job->to_number<std::int64_t>()),
                                   data ? std::string(data->get_string()) : std::string(),
                                   close && close->get_bool());
        followers_.spawn(std::move(writing), "stdin from a watcher");
        return;
    }
    const auto* all = o.if_contains("all");
    const bool everything = all && all->is_bool() && all->get_bool();
    const auto* services = o.if_contains("services");
    const bool of_services = services && services->is_bool() && services->get_bool();
    const bool has_job = job && (job->is_int64() || job->is_uint64()) && job->to_number<std::int64_t>() > 0;
    if (!type || !type->is_string() ||
        (type->get_string() != "subscribe" && type->get_string() != "unsubscribe")) {
        send({{"type", "error"}, {"message", "\"type\" must be \"subscribe\", \"unsubscribe\" or \"stdin\""}});
        return;
    }
    if (!has_job && !everything && !of_services) {
        send({{"type", "error"},
              {"message", "give \"job\": ID (a positive integer), \"all\": true or \"services\": true"}});
        return;
    }
    const bool sub = type->get_string() == "subscribe";
    if (of_services) {
        subscribe_services(sub);
        if (!everything && !has_job) {
            return;
        }
    }
    if (everything) {
        sub_->follow_all(sub);
        if (format_ == wire::websocket) {
            send({{"type", sub ? "subscribed" : "unsubscribed"}, {"all", true}, {"session", sub_->id()}});
        }
        return;
    }
    const auto id = static_cast<jobs::job_id>(job->to_number<std::int64_t>());
    if (!sub) {
        unsubscribe(id);
        send({{"type", "unsubscribed"}, {"job", id}});
        return;
    }
    follow_request s{id, 0, true};
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
        if (stopping()) {
            co_return;
        }
        // Events first: a job's "started" goes out before the output that follows it.
        if (sub_->has_pending()) {
            auto events = take_events();
            for (std::size_t i = 0; i < events.size(); ++i) {
                if (!(co_await send_one(*events[i].frame))) {
                    std::vector<services::event_ptr> unsent;  // for the reader that resumes
                    for (auto& e : std::span(events).subspan(i)) {
                        if (e.event) {
                            unsent.push_back(std::move(e.event));
                        }
                    }
                    sub_->put_back(std::move(unsent));
                    co_return;
                }
            }
            continue;
        }
        if (queue_.empty()) {
            if (format_ != wire::sse) {
                // A WebSocket keeps itself alive with pings (http::listener_options::websocket_ping):
                // no timer to re-arm (a system call) at every wake-up.
                co_await sub_->wait();
                continue;
            }
            keepalive.expires_after(sse_keepalive);
            co_await (sub_->wait() || keepalive.async_wait(use_nothrow));
            if (queue_.empty() && !sub_->has_pending() && !stopping() &&
                !(co_await send_one(": keepalive\n\n"))) {
                co_return;
            }
            continue;
        }
        if (service_.pressure().high() && options_.defer_to_jobs.count() > 0) {
            co_await defer_to_jobs();
            if (stopping() || queue_.empty()) {
                continue;
            }
        }
        auto message = std::move(queue_.front());
        queue_.pop_front();
        queued_bytes_ -= message.frame->size();
        space_.notify_all();
        if (!(co_await send_one(*message.frame))) {
            co_return;
        }
        if (message.job != 0) {
            sub_->advance(message.job, message.cursor);  // a resumed reader goes on from here
        }
    }
}

/// Why the writer stopped, for the client: too slow, replaced by a newer reader, or the
/// subscription's own end.
std::optional<std::string> watch_session::end_reason() const {
    if (close_reason_) {
        return close_reason_;
    }
    if (!reader_.current()) {
        return std::string("replaced: another connection resumed this subscription");
    }
    return sub_->closed();
}

net::awaitable<void> watch_session::serve(http::message_channel& channel) {
    auto send_one = [&](std::string_view frame) { return channel.send(frame); };
    auto writer = [&]() -> net::awaitable<void> {
        co_await write_queue(send_one);
        if (auto reason = end_reason()) {
            // A slow watcher broke the rules (1008); a replaced or ended one simply ends (1000, as
            // ASEXOR closes a replaced session).
            co_await channel.close(close_code_, *reason);
        }
    };
    followers_.spawn(writer(), "watcher writer");
    std::exception_ptr failure;
    try {
        for (;;) {
            auto message = co_await channel.receive();
            if (!message) {
                break;
            }
            if (message->binary) {
                // This stream speaks JSON text; a binary frame is a client of another protocol. The
                // writer sends the close (one writer at a time); reading goes on until the client
                // answers it.
                end_with(http::close_code::unsupported_data, "this stream takes JSON text messages, not binary ones");
                continue;
            }
            handle_message(message->data);
        }
    } catch (...) {
        // Cancelled (corrald is stopping and closes its connections) or the connection failed.
        failure = std::current_exception();
    }
    // No cancellation may stop finish(): see its declaration.
    co_await net::this_coro::throw_if_cancelled(false);
    co_await net::this_coro::reset_cancellation_state(net::disable_cancellation());
    co_await finish();
    if (failure) {
        std::rethrow_exception(failure);
    }
}

net::awaitable<void> watch_session::serve(http::event_stream& stream) {
    auto send_one = [&](std::string_view frame) { return stream.send(frame); };
    std::exception_ptr failure;
    try {
        co_await write_queue(send_one);
    } catch (...) {
        failure = std::current_exception();
    }
    // No cancellation may stop finish(): see its declaration.
    co_await net::this_coro::throw_if_cancelled(false);
    co_await net::this_coro::reset_cancellation_state(net::disable_cancellation());
    co_await finish();
    if (failure) {
        std::rethrow_exception(failure);
    }
}

net::awaitable<void> watch_session::finish() {
    end_with(http::close_code::normal, "closed");
    for (auto& [id, f] : followers_by_job_) {
        f->cancelled.notify_all();
    }
    followers_.cancel_all();
    co_await followers_.wait();
}

}  // namespace corral::proto
