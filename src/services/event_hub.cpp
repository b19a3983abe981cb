#include "corral/services/event_hub.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "corral/core/random_id.hpp"

namespace corral::services {
namespace {

void remove_one(std::vector<subscription*>& v, subscription* s) {
    if (auto it = std::find(v.begin(), v.end(), s); it != v.end()) {
        *it = v.back();
        v.pop_back();
    }
}

}  // namespace

event_hub::event_hub(net::any_io_executor executor, subscription_options options)
    : executor_(executor), options_(options), sweep_timer_(executor) {}

event_hub::~event_hub() {
    // Readers may still hold subscriptions (their coroutines end later): they must not reach back here.
    for (auto& [id, s] : subs_) {
        s->close("the daemon is stopping");
        s->hub_ = nullptr;
    }
}

bool event_hub::sees(const subscription& s, const event_record& e) const {
    return !s.only_owner() || *s.only_owner() == e.owner;
}

event_ptr event_hub::publish(const jobs::job& j, jobs::job_event e) {
    auto record = std::make_shared<const event_record>(
        event_record{++seq_, jobs::clock::now(), j.id, e, j.state, j.owner});
    ++stats_.events;
    if (options_.events_kept > 0) {
        recent_.push_back(record);
        if (recent_.size() > options_.events_kept) {
            recent_.pop_front();
        }
    }
    // Deliveries only queue and notify, so no subscription leaves the index while it is walked.
    const std::vector<subscription*>* followers = nullptr;
    if (auto it = by_job_.find(j.id); it != by_job_.end()) {
        followers = &it->second;
        for (auto* s : *followers) {
            if (sees(*s, *record)) {
                s->deliver(record);
            }
        }
    }
    for (auto* s : all_) {
        // Once each: one that follows this job too has it already (a finished events-only follow
        // has just ended, so follows() cannot tell).
        const bool reached = followers && std::find(followers->begin(), followers->end(), s) != followers->end();
        if (!reached && sees(*s, *record)) {
            s->deliver(record);
        }
    }
    if (e == jobs::job_event::finished) {
        by_job_.erase(j.id);  // nothing more will come for it; readers of its output unfollow at its end
    }
    return record;
}

event_ptr event_hub::publish_service(service_event_info info, jobs::job_id run) {
    auto record = std::make_shared<const event_record>(
        event_record{++seq_, jobs::clock::now(), run, jobs::job_event::queued, jobs::job_state::queued, {},
                     std::make_shared<const service_event_info>(std::move(info))});
    ++stats_.events;
    if (options_.events_kept > 0) {
        recent_.push_back(record);
        if (recent_.size() > options_.events_kept) {
            recent_.pop_front();
        }
    }
    for (auto* s : services_) {
        s->deliver(record);
    }
    return record;
}

result_info<std::shared_ptr<subscription>> event_hub::create(std::string user,
                                                             std::optional<std::string> only_owner) {
    if (stopped_) {
        return error_info{errc::invalid_state, "the daemon is stopping: no new subscriptions"};
    }
    if (subs_.size() >= options_.max_subscriptions) {
        sweep();
        // Still full: the one whose reader left longest ago makes room.
        subscription* oldest = nullptr;
        for (auto& [id, s] : subs_) {
            if (!s->read() && (!oldest || s->left_at() < oldest->left_at())) {
                oldest = s.get();
            }
        }
        if (!oldest) {
            return error_info{errc::queue_full,
                              fmt::format("too many subscriptions ({}, api.max_subscriptions), each with a reader",
                                          subs_.size())};
        }
        let_go(*oldest);
    }
    auto s = std::make_shared<subscription>(*this, random_id(16), std::move(user), std::move(only_owner));
    subs_.emplace(s->id(), s);
    s->left_at_ = std::chrono::steady_clock::now();
    reader_left(*s);  // it lingers until someone reads it
    return s;
}

std::shared_ptr<subscription> event_hub::find(std::string_view id, std::string_view user) const {
    auto it = subs_.find(std::string(id));
    if (it == subs_.end() || it->second->user() != user || it->second->closed()) {
        return nullptr;
    }
    return it->second;
}

bool event_hub::replay(subscription& s, std::uint64_t after) {
    const bool complete = recent_.empty() ? after >= seq_ : recent_.front()->seq <= after + 1;
    auto from = std::upper_bound(
        recent_.begin(), recent_.end(), after, [](std::uint64_t seq, const event_ptr& e) { return seq < e->seq; });
    for (auto it = from; it != recent_.end(); ++it) {
        const auto& e = **it;
        const bool wanted = e.service ? s.follows_services() : (s.follows(e.job) || s.follows_all()) && sees(s, e);
        if (wanted) {
            s.deliver(*it);
        }
    }
    return complete;
}

void event_hub::close_all(std::string reason) {
    for (auto& [id, s] : subs_) {
        s->close(reason);
    }
}

void event_hub::stop(std::string reason) {
    stopped_ = true;
    sweep_timer_.cancel();
    sweep_at_.reset();
    close_all(std::move(reason));
}

void event_hub::index(subscription& s, jobs::job_id job, bool add) {
    if (add) {
        by_job_[job].push_back(&s);
    } else if (auto it = by_job_.find(job); it != by_job_.end()) {
        remove_one(it->second, &s);
        if (it->second.empty()) {
            by_job_.erase(it);
        }
    }
}

void event_hub::index_services(subscription& s, bool add) {
    if (add) {
        services_.push_back(&s);
    } else {
        remove_one(services_, &s);
    }
}

void event_hub::index_all(subscription& s, bool add) {
    if (add) {
        all_.push_back(&s);
    } else {
        remove_one(all_, &s);
    }
}

void event_hub::reader_left(subscription& s) {
    arm_sweep(s.left_at() + options_.linger);
}

void event_hub::arm_sweep(std::chrono::steady_clock::time_point when) {
    if (stopped_ || (sweep_at_ && *sweep_at_ <= when)) {
        return;  // an earlier sweep will re-arm for this one
    }
    sweep_at_ = when;
    sweep_timer_.expires_at(when);
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) {
            return;  // re-armed, or the hub is going
        }
        sweep_at_.reset();
        sweep();
    });
}

void event_hub::sweep() {
    const auto now = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> next;
    std::vector<subscription*> expired;
    for (auto& [id, s] : subs_) {
        if (s->read()) {
            continue;
        }
        const auto until = s->left_at() + options_.linger;
        if (until <= now || s->closed()) {
            expired.push_back(s.get());
        } else if (!next || until < *next) {
            next = until;
        }
    }
    for (auto* s : expired) {
        ++stats_.expired;
        let_go(*s);
    }
    if (next) {
        arm_sweep(*next);
    }
}

void event_hub::let_go(subscription& s) {
    s.close("subscription expired");
    for (const auto& [job, how] : s.followed_) {
        index(s, job, false);
    }
    index_all(s, false);
    index_services(s, false);
    s.hub_ = nullptr;
    const std::string id = s.id_;
    subs_.erase(id);  // may destroy it: touch nothing after
}

}  // namespace corral::services
