#include "corral/store/memory_store.hpp"

#include <spdlog/spdlog.h>

#include "job_rows.hpp"

namespace corral::store {

memory_store::memory_store(net::any_io_executor executor) : executor_(std::move(executor)) {}

memory_store::~memory_store() = default;

jobs::loaded_state memory_store::take_loaded() {
    jobs::loaded_state loaded;
    loaded.next_id = next_id_;
    for (const auto& [id, row] : rows_) {
        auto j = make_job(row, executor_);
        if (!j) {  // cannot happen for rows made by to_row(); said, not hidden, if it ever does
            spdlog::error("{}", j.error().what());
            continue;
        }
        loaded.jobs.push_back(std::move(*j));
    }
    for (const auto& [name, record] : schedules_) {
        loaded.schedules.push_back(record);
    }
    return loaded;
}

void memory_store::save_schedule(jobs::schedule_record record) {
    auto name = record.name;
    schedules_.insert_or_assign(std::move(name), std::move(record));
}

std::uint64_t memory_store::save(const jobs::job& j) {
    auto row = to_row(j, {});
    next_id_ = std::max(next_id_, j.id + 1);
    rows_.insert_or_assign(row.id, std::move(row));
    return ++seq_;
}

std::uint64_t memory_store::save_state(const jobs::job& j) {
    auto it = rows_.find(static_cast<std::int64_t>(j.id));
    if (it == rows_.end()) {
        return save(j);
    }
    copy_state(it->second, to_row(j, {}, false));
    return ++seq_;
}

std::uint64_t memory_store::starting(const jobs::job& j) {
    const auto seq = save_state(j);
    rows_[static_cast<std::int64_t>(j.id)].state = std::string(jobs::to_string(jobs::job_state::running));
    return seq;
}

void memory_store::forget(const jobs::job& j) {
    rows_.erase(static_cast<std::int64_t>(j.id));
    ++seq_;
}

void memory_store::audit(jobs::audit_entry entry) {
    audit_.push_back(std::move(entry));
    ++seq_;
}

net::awaitable<result_info<void>> memory_store::flush(std::uint64_t) {
    co_return result_info<void>{};  // nothing to wait for: memory is as durable as it gets
}

net::awaitable<result_info<void>> memory_store::flush() {
    co_return result_info<void>{};
}

net::awaitable<result_info<jobs::audit_page>> memory_store::audit_trail(jobs::job_id job,
                                                                        std::size_t limit,
                                                                        std::int64_t before) {
    jobs::audit_page page;
    // Newest first, from just before `before` (exclusive; 0: the newest), as the SQLite store pages.
    auto seq = before == 0 ? static_cast<std::int64_t>(audit_.size()) : std::min<std::int64_t>(before - 1, static_cast<std::int64_t>(audit_.size()));
    for (; seq >= 1; --seq) {
        const auto& e = audit_[static_cast<std::size_t>(seq - 1)];
        if (job != 0 && e.job != job) {
            continue;
        }
        if (page.entries.size() == limit) {
            page.next = seq + 1;
            break;
        }
        page.entries.push_back(e);
    }
    co_return page;
}

}  // namespace corral::store
