#include "corral/sched/scheduler.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace corral::sched {

scheduler::scheduler(scheduler_options options) : options_(std::move(options)) {
    options_.slots = std::max(1u, options_.slots);
}

scheduler::group_map::iterator scheduler::group(std::string_view name) {
    auto it = groups_.find(name);
    if (it == groups_.end()) {
        it = groups_.emplace(std::string(name), group_state{}).first;
        if (auto limit = options_.group_limits.find(name); limit != options_.group_limits.end()) {
            it->second.limit = limit->second;
        }
    }
    return it;
}

void scheduler::forget_if_idle(group_map::iterator it) {
    // Groups come from requests: keep only those with work, so arbitrary names cannot pile up.
    const auto& g = it->second;
    if (g.queued.empty() && g.running == 0 && !g.listed) {
        groups_.erase(it);
    }
}

void scheduler::relist(group_state& g, std::string_view name) {
    const bool may_start = !g.queued.empty() && (g.limit == 0 || g.running < g.limit);
    const std::optional<entry> wanted = may_start ? std::optional<entry>(*g.queued.begin()) : std::nullopt;
    if (g.listed == wanted) {
        return;
    }
    if (g.listed) {
        ready_.erase(ready_entry{*g.listed, &g, name});
    }
    if (wanted) {
        ready_.insert(ready_entry{*wanted, &g, name});
    }
    g.listed = wanted;
}

result_info<queue_position> scheduler::push(job_id id, int priority, std::string_view group_name) {
    if (full()) {
        return error_info{
            errc::queue_full,
            fmt::format("the queue is full: {} jobs are waiting (the limit is jobs.max_queued)", queued_)};
    }
    queue_position position{priority, next_seq_++};
    restore(id, position, group_name);
    return position;
}

void scheduler::restore(job_id id, queue_position position, std::string_view group_name) {
    next_seq_ = std::max(next_seq_, position.seq + 1);
    auto it = group(group_name);
    it->second.queued.insert(entry{position, id});
    ++queued_;
    relist(it->second, it->first);
}

bool scheduler::cancel(job_id id, queue_position position, std::string_view group_name) {
    auto it = groups_.find(group_name);
    if (it == groups_.end() || it->second.queued.erase(entry{position, id}) == 0) {
        return false;
    }
    --queued_;
    relist(it->second, it->first);
    forget_if_idle(it);
    return true;
}

std::optional<job_id> scheduler::pop() {
    if (running_ >= options_.slots || ready_.empty()) {
        return std::nullopt;
    }
    const auto next = *ready_.begin();
    auto& g = *next.group;
    g.queued.erase(g.queued.begin());
    --queued_;
    ++g.running;
    ++running_;
    relist(g, next.name);
    return next.head.id;
}

void scheduler::finished(std::string_view group_name) {
    auto it = groups_.find(group_name);
    if (it == groups_.end() || it->second.running == 0) {
        return;
    }
    --it->second.running;
    --running_;
    relist(it->second, it->first);
    forget_if_idle(it);
}

std::vector<queued_job> scheduler::snapshot(std::size_t limit) const {
    std::vector<queued_job> all;
    for (const auto& [name, g] : groups_) {
        for (const auto& e : g.queued) {
            all.push_back({e.id, e.position, name});
        }
    }
    const auto n = std::min(limit, all.size());
    std::partial_sort(all.begin(),
                      all.begin() + static_cast<std::ptrdiff_t>(n),
                      all.end(),
                      [](const auto& a, const auto& b) { return a.position < b.position; });
    all.resize(n);
    return all;
}

std::map<std::string, scheduler::group_load, std::less<>> scheduler::groups() const {
    std::map<std::string, group_load, std::less<>> out;
    for (const auto& [name, g] : groups_) {
        if (g.running > 0 || !g.queued.empty() || g.limit > 0) {
            out.emplace(name, group_load{g.running, g.queued.size(), g.limit});
        }
    }
    for (const auto& [name, limit] : options_.group_limits) {
        out.try_emplace(name, group_load{0, 0, limit});
    }
    return out;
}

}  // namespace corral::sched
