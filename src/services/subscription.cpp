#include "corral/services/subscription.hpp"

#include <fmt/format.h>

#include "corral/services/event_hub.hpp"

namespace corral::services {

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
        case jobs::job_event::retrying:
            return "retrying";
    }
    return "event";
}

subscription::subscription(event_hub& hub,
                           std::string id,
                           std::string user,
                           std::optional<std::string> only_owner)
    : hub_(&hub),
      id_(std::move(id)),
      user_(std::move(user)),
      only_owner_(std::move(only_owner)),
      left_at_(std::chrono::steady_clock::now()),
      changed_(hub.executor()) {}

subscription::~subscription() {
    if (hub_) {
        for (const auto& [job, how] : followed_) {
            hub_->index(*this, job, false);
        }
        hub_->index_all(*this, false);
        hub_->index_services(*this, false);
    }
}

void subscription::follow(jobs::job_id job, bool output, std::uint64_t from) {
    auto [it, added] = followed_.insert_or_assign(job, followed_job{output, from});
    if (added && hub_) {
        hub_->index(*this, job, true);
    }
}

void subscription::unfollow(jobs::job_id job) {
    if (followed_.erase(job) != 0 && hub_) {
        hub_->index(*this, job, false);
    }
}

void subscription::follow_all(bool on) {
    if (on != all_ && hub_) {
        hub_->index_all(*this, on);
    }
    all_ = on;
}

void subscription::follow_services(bool on) {
    if (on != services_ && hub_) {
        hub_->index_services(*this, on);
    }
    services_ = on;
}

void subscription::advance(jobs::job_id job, std::uint64_t cursor) {
    if (auto it = followed_.find(job); it != followed_.end()) {
        it->second.cursor = cursor;
    }
}

subscription::batch subscription::take() {
    batch b;
    b.lost = lost_;
    lost_ = 0;
    if (head_ == 0) {
        b.events.swap(pending_);
    } else {
        b.events.assign(std::make_move_iterator(pending_.begin() + static_cast<std::ptrdiff_t>(head_)),
                        std::make_move_iterator(pending_.end()));
        pending_.clear();
        head_ = 0;
    }
    if (!b.events.empty()) {
        cursor_ = b.events.back()->seq;
    }
    return b;
}

void subscription::put_back(std::vector<event_ptr> unsent) {
    if (unsent.empty()) {
        return;
    }
    cursor_ = unsent.front()->seq - 1;
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
    pending_.insert(pending_.begin(), std::make_move_iterator(unsent.begin()), std::make_move_iterator(unsent.end()));
}

void subscription::close(std::string reason) {
    if (!closed_) {
        closed_ = std::move(reason);
        changed_.notify_all();
    }
}

void subscription::deliver(const event_ptr& e) {
    if (closed_) {
        return;
    }
    const auto& options = hub_->options();
    if (pending_.size() - head_ >= options.max_pending) {
        if (options.on_slow == slow_policy::disconnect) {
            close(fmt::format("subscription too slow: {} events pending (limit {})",
                              pending_.size() - head_,
                              options.max_pending));
            return;
        }
        pending_[head_++].reset();
        ++lost_;
        ++hub_->stats_.dropped;
        if (head_ * 2 > pending_.size()) {  // keep the dropped prefix from growing without end
            pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
    }
    pending_.push_back(e);
    ++hub_->stats_.delivered;
    // An events-only follow ends with the job: nothing more will come for it.
    if (e->kind == jobs::job_event::finished) {
        if (auto it = followed_.find(e->job); it != followed_.end() && !it->second.output) {
            followed_.erase(it);  // the hub drops the job's whole index entry itself
        }
    }
    changed_.notify_all();
}

subscription::reader::reader(std::shared_ptr<subscription> s) : sub_(std::move(s)), generation_(++sub_->reader_) {
    ++sub_->readers_;
    sub_->changed_.notify_all();  // an earlier reader wakes and finds it is no longer current
}

subscription::reader::~reader() {
    if (--sub_->readers_ == 0) {
        sub_->left_at_ = std::chrono::steady_clock::now();
        if (sub_->hub_) {
            sub_->hub_->reader_left(*sub_);
        }
    }
}

}  // namespace corral::services
