#include "corral/jobs/job_table.hpp"

namespace corral::jobs {

job& job_table::add(std::string owner, job_spec spec, std::unique_ptr<output::output_log> log) {
    auto j = std::make_unique<job>();
    j->id = next_id_++;
    j->owner = std::move(owner);
    j->spec = std::move(spec);
    j->created = clock::now();
    j->log = std::move(log);
    auto& ref = *j;
    jobs_.emplace(ref.id, std::move(j));
    notify(ref, job_event::queued);
    return ref;
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
        evict();
    }
}

std::size_t job_table::evict(clock::time_point now) {
    std::size_t finished = 0;
    for (auto& [id, j] : jobs_) {
        finished += is_finished(j->state) ? 1 : 0;
    }
    std::size_t evicted = 0;
    // Oldest first: ids grow with time, so map order is age order.
    for (auto it = jobs_.begin(); it != jobs_.end();) {
        const job& j = *it->second;
        const bool too_many = finished > retention_.max_finished;
        const bool too_old = retention_.max_age && j.finished && now - *j.finished > *retention_.max_age;
        if (is_finished(j.state) && j.pins == 0 && (too_many || too_old)) {
            it = jobs_.erase(it);
            --finished;
            ++evicted;
        } else {
            ++it;
        }
    }
    return evicted;
}

}  // namespace corral::jobs
