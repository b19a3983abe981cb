// An ASEXOR session: call messages become task submissions, job events become update messages.
#include "corral/proto/asexor_session.hpp"

#include "corral/services/task_request.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

namespace corral::proto::asexor {
namespace json = boost::json;

/// Kept with the subscription (see session): outlives a connection, not the subscription.
struct session::book final : services::subscription::attachment {
    struct call {
        json::value call_id;
        /// Holds the job until its last update is made: retention must not let it go first.
        std::unique_ptr<services::job_service::pin> pin;
    };
    std::unordered_map<jobs::job_id, call> calls;
    /// Messages made outside the event stream (replies, errors, the updates of what happened
    /// before the job was followed), and those put back; they go out before the next events.
    std::deque<json::value> outbox;
};

namespace {

double seconds_between(jobs::clock::time_point from, jobs::clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

json::object update(const jobs::job& j, std::string_view status) {
    json::object data{{"status", status}};
    if (status == "progress") {
        data["progress"] = j.progress.value_or(0.0);
    } else if (status != "started") {
        const double duration =
            j.started && j.finished ? seconds_between(*j.started, *j.finished) : 0.0;
        if (status == "success") {
            data["result"] = j.result;
        } else {
            data["error"] = j.reason.empty() ? std::string(jobs::to_string(j.state)) : j.reason;
        }
        data["duration"] = duration;
    }
    data["task_id"] = j.id;
    return data;
}

std::string_view final_status(jobs::job_state s) {
    return s == jobs::job_state::succeeded ? "success" : "error";
}

/// ASEXOR's words for why a submission was refused, where its clients may know them.
std::string refusal(const error_info& e, std::string_view task) {
    if (e.code == errc::forbidden) {
        return fmt::format("Not authorised to run {}", task);
    }
    if (e.code == errc::queue_full) {
        return "QueueFull()";
    }
    return e.what();
}

}  // namespace

session::session(const backend& b,
                 auth::identity who,
                 std::shared_ptr<services::subscription> sub,
                 session_options options)
    : backend_(b),
      who_(std::move(who)),
      sub_(std::move(sub)),
      reader_(sub_),
      options_(options),
      book_([this]() -> book& {
          if (auto* kept = dynamic_cast<book*>(sub_->attached())) {
              return *kept;
          }
          auto fresh = std::make_unique<book>();
          auto& ref = *fresh;
          sub_->attach(std::move(fresh));
          return ref;
      }()) {}

session::~session() = default;

result_info<std::shared_ptr<services::subscription>> open_subscription(const backend& b,
                                                                       const auth::identity& who,
                                                                       bool delegated) {
    if (delegated) {
        return b.service.events().create(who.user, std::nullopt);
    }
    return b.service.subscribe_as(who);
}

result_info<auth::identity> session::caller(const call_message& c) const {
    if (!options_.delegated) {
        return who_;
    }
    if (!c.user || c.user->empty()) {
        return error_info{errc::invalid_argument, "A delegated call must name its user"};
    }
    auto role = backend_.auth.role(c.role.value_or(""));
    if (!role) {
        return error_info{errc::invalid_argument,
                          fmt::format("Unknown role {}", c.role ? *c.role : std::string("(none)"))};
    }
    return auth::identity{*c.user, std::move(role)};
}

net::awaitable<session::answer> session::call(const json::value& message, bool queue_answer) {
    auto parsed = parse_call(message, options_.delegated);
    if (!parsed && !parsed.error().call_id) {
        co_return answer{error_message(0, parsed.error().message), parsed.error().message};
    }
    // No co_await inside a conditional expression: g++ 12 miscompiles the temporaries.
    json::value reply;
    if (parsed) {
        reply = co_await submit(std::move(*parsed), queue_answer);
    } else {
        reply = error_message(*parsed.error().call_id, parsed.error().message);
        if (queue_answer) {
            book_.outbox.push_back(reply);
        }
    }
    sub_->wake();
    co_return answer{std::move(reply), std::nullopt};
}

net::awaitable<json::value> session::submit(call_message c, bool queue_answer) {
    auto fail = [&](std::string why) {
        auto message = error_message(c.call_id, why);
        if (queue_answer) {
            book_.outbox.push_back(message);
        }
        return message;
    };
    const std::string task_name = c.task.is_string() ? std::string(c.task.as_string()) : json::serialize(c.task);
    const auto* task = c.task.is_string() ? backend_.catalog.find(c.task.as_string()) : nullptr;
    if (!task) {
        co_return fail(fmt::format("No task with name {}", task_name));
    }
    auto as = caller(c);
    if (!as) {
        co_return fail(as.error().what());
    }
    auto named = tasks::task_catalog::bind(*task, c.args, c.kwargs);
    if (!named) {
        co_return fail(named.error().what());
    }
    auto request = services::make_task_request(backend_.catalog, *task, *named, backend_.defaults);
    if (!request) {
        co_return fail(request.error().what());
    }
    std::vector<services::submit_request> requests;
    requests.push_back(std::move(*request));
    auto submitted = co_await backend_.service.submit_as(*as, std::move(requests));
    if (!submitted) {
        co_return fail(refusal(submitted.error(), task_name));
    }
    // From here to the return nothing suspends: the reply, then the updates of what the job did
    // while it was being committed, then (through the subscription) the rest.
    auto& job = submitted->jobs.front()->get();
    auto reply = reply_message(c.call_id, job.id);
    if (queue_answer) {
        book_.outbox.push_back(reply);
    }
    if (options_.updates) {
        track(job, c.call_id);
    }
    co_return reply;
}

void session::track(jobs::job& j, const json::value& call_id) {
    // Events from now on come through the subscription; what happened while the submission was
    // being committed is read from the job itself, after the reply and before any later event.
    if (j.state != jobs::job_state::queued) {
        book_.outbox.push_back(update_message(call_id, update(j, "started")));
    }
    if (jobs::is_finished(j.state)) {
        book_.outbox.push_back(update_message(call_id, update(j, final_status(j.state))));
        return;
    }
    sub_->follow(j.id, false);
    book_.calls.emplace(j.id, book::call{call_id, std::make_unique<services::job_service::pin>(backend_.service, j)});
}

std::optional<json::value> session::update_for(const services::event_record& e) {
    auto it = book_.calls.find(e.job);
    if (it == book_.calls.end()) {
        return std::nullopt;
    }
    const auto& j = it->second.pin->get();
    std::optional<json::value> message;
    switch (e.kind) {
        case jobs::job_event::queued:
        case jobs::job_event::retrying:  // ASEXOR has no such status: its client hears the last attempt's end
            break;
        case jobs::job_event::started:
            message = update_message(it->second.call_id, update(j, "started"));
            break;
        case jobs::job_event::progress:
            message = update_message(it->second.call_id, update(j, "progress"));
            break;
        case jobs::job_event::finished:
            // A job cancelled before it started gets no "started"; its error says why.
            message = update_message(it->second.call_id, update(j, final_status(e.state)));
            book_.calls.erase(it);
            break;
    }
    return message;
}

std::vector<json::value> session::take() {
    std::vector<json::value> out(std::make_move_iterator(book_.outbox.begin()),
                                 std::make_move_iterator(book_.outbox.end()));
    book_.outbox.clear();
    auto batch = sub_->take();
    if (batch.lost > 0) {
        spdlog::warn("asexor session of {}: {} job event(s) dropped for a slow reader (api.subscription_events)",
                     who_.user,
                     batch.lost);
    }
    for (const auto& e : batch.events) {
        if (auto m = update_for(*e)) {
            out.push_back(std::move(*m));
        }
    }
    if (batch.lost > 0) {
        // A dropped "finished" would leave its call (and the job's pin) here for good: a job that
        // has ended by now gets its last update from its own record.
        for (auto it = book_.calls.begin(); it != book_.calls.end();) {
            const auto& j = it->second.pin->get();
            if (jobs::is_finished(j.state)) {
                out.push_back(update_message(it->second.call_id, update(j, final_status(j.state))));
                it = book_.calls.erase(it);
            } else {
                ++it;
            }
        }
    }
    return out;
}

void session::put_back(std::vector<json::value> unsent) {
    book_.outbox.insert(book_.outbox.begin(),
                        std::make_move_iterator(unsent.begin()),
                        std::make_move_iterator(unsent.end()));
}

bool session::has_pending() const {
    return !book_.outbox.empty() || sub_->has_pending();
}

std::optional<std::string> session::ended() const {
    if (sub_->closed()) {
        return sub_->closed();
    }
    if (!reader_.current()) {
        return std::string("replaced");
    }
    return std::nullopt;
}

}  // namespace corral::proto::asexor
