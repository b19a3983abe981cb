#include "corral/jobs/job_table.hpp"

#include <algorithm>
#include <iterator>

namespace corral::jobs {
namespace {

std::uint64_t kept_bytes(const job& j) {
    return j.log ? j.log->end_offset() - j.log->first_offset() : 0;
}

}  // namespace

job& job_table::add(std::string owner,
                    job_spec spec,
                    std::unique_ptr<output::output_log> log,
                    const std::function<void(job&)>& fill) {
    auto j = std::make_unique<job>();
    j->id = next_id_++;
    j->owner = std::move(owner);
    j->spec = std::move(spec);
    j->created = clock::now();
    j->log = std::move(log);
    auto& ref = *j;
    if (fill) {
        fill(ref);
    }
    jobs_.emplace(ref.id, std::move(j));
    notify(ref, job_event::queued);
    return ref;
}

void job_table::adopt(std::unique_ptr<job> j) {
    const job_id id = j->id;
    next_id_ = std::max(next_id_, id + 1);
    if (is_finished(j->state)) {
        finished_.insert(id);
        finished_bytes_ += kept_bytes(*j);
    }
    jobs_[id] = std::move(j);
}

job* job_table::find(job_id id) {
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : it->second.get();
}

const job* job_table::find(job_id id) const {
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : it->second.get();
}

std::vector<job*> job_table::list() {
    std::vector<job*> out;
    out.reserve(jobs_.size());
    for (auto& [id, j] : jobs_) {
        out.push_back(j.get());
    }
    return out;
}

void job_table::notify(const job& j, job_event e) {
    for (auto& o : observers_) {
        o(j, e);
    }
    if (e == job_event::finished) {
        finished_.insert(j.id);
        finished_bytes_ += kept_bytes(j);
        evict();
    }
}

std::size_t job_table::evict(clock::time_point now) {
    std::size_t evicted = 0;
    auto erase = [&](std::set<job_id>::iterator it) {
        auto found = jobs_.find(*it);
        if (on_evict_) {
            on_evict_(*found->second);
        }
        finished_bytes_ -= kept_bytes(*found->second);
        jobs_.erase(found);
        ++evicted;
        return finished_.erase(it);
    };
    // By count, oldest first (ids grow with time): usually just the one job past the limit.
    for (auto it = finished_.begin(); it != finished_.end() && finished_.size() > retention_.max_finished;) {
        it = find(*it)->pins == 0 ? erase(it) : std::next(it);
    }
    // By output kept, oldest first.
    for (auto it = finished_.begin(); it != finished_.end() && retention_.max_output_bytes != 0 &&
                                      finished_bytes_ > retention_.max_output_bytes;) {
        it = find(*it)->pins == 0 ? erase(it) : std::next(it);
    }
    // By age: a pass over the finished jobs, at most once a second.
    if (retention_.max_age && now - last_age_sweep_ >= std::chrono::seconds(1)) {
        last_age_sweep_ = now;
        for (auto it = finished_.begin(); it != finished_.end();) {
            const job& j = *find(*it);
            const bool too_old = j.finished && now - *j.finished > *retention_.max_age;
            it = j.pins == 0 && too_old ? erase(it) : std::next(it);
        }
    }
    return evicted;
}

}  // namespace corral::jobs
