#include "corral/store/sqlite_store.hpp"

#include <unistd.h>

#include <functional>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <boost/asio/post.hpp>

#include "corral/core/async_event.hpp"
#include "job_rows.hpp"
#include "schema.hpp"
#include "sqlite_db.hpp"

namespace corral::store {
namespace {

struct forget_job {
    std::int64_t id;
    std::string output_file;
};

std::int64_t to_ns(jobs::clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

jobs::clock::time_point from_ns(std::int64_t ns) {
    return jobs::clock::time_point(
        std::chrono::duration_cast<jobs::clock::duration>(std::chrono::nanoseconds(ns)));
}

}  // namespace

/// One queued write (or a read that must see the writes before it).
struct sqlite_store::op {
    std::uint64_t seq;
    std::variant<job_row, forget_job, jobs::audit_entry, std::function<void(database&)>> what;
};

/// The core's side of commits: shared with the handlers the writer posts, so that a late handler
/// never touches a store that is gone.
struct sqlite_store::commit_state {
    explicit commit_state(net::any_io_executor e) : committed(std::move(e)) {}
    std::uint64_t done = 0;  // every op up to this one has been tried
    /// Every batch whose commit failed, first seq → (last seq, why). A record is durable only if no
    /// failed batch held it, however many batches failed after it.
    std::map<std::uint64_t, std::pair<std::uint64_t, std::string>> failed;
    /// The reason when op `seq` was in a failed batch.
    const std::string* failure_of(std::uint64_t seq) const {
        auto it = failed.upper_bound(seq);
        if (it == failed.begin()) {
            return nullptr;
        }
        --it;
        return seq <= it->second.first ? &it->second.second : nullptr;
    }
    async_event committed;
    store_stats* stats = nullptr;
};

/// The writer thread's connection and statements.
struct sqlite_store::writer {
    writer(const std::string& path, bool full_sync) : db(path) {
        // One connection, ours, for the daemon's life: its locks are taken once, not per transaction
        // (a dozen fcntl calls per job; one CLI call per job got 13 % faster), the WAL index lives in our
        // memory, and a second corrald on the same state directory cannot open the database (it would resume
        // and run the same jobs again).
        db.exec("PRAGMA locking_mode = EXCLUSIVE");
        sqlite3_busy_timeout(db.handle(), 1000);  // a corrald that is just exiting lets go of it
        try {
            db.exec("PRAGMA journal_mode = WAL");
        } catch (const sqlite_error&) {
            if ((sqlite3_errcode(db.handle()) & 0xff) == SQLITE_BUSY) {
                throw sqlite_error(
                    "the database is locked: another corrald is using this state directory (corrald "
                    "holds its database for as long as it runs; copy corral.db and corral.db-wal to "
                    "inspect it meanwhile)");
            }
            throw;
        }
        db.exec(full_sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
        migrate(db);
        upsert = std::make_unique<statement>(db.handle(), upsert_job_sql);
        update_state = std::make_unique<statement>(db.handle(), update_job_state_sql);
        remove = std::make_unique<statement>(db.handle(), "DELETE FROM jobs WHERE id = ?1");
        add_audit = std::make_unique<statement>(
            db.handle(),
            "INSERT INTO audit (time_ns, actor, action, job, detail) VALUES (?1, ?2, ?3, ?4, ?5)");
        next_id = std::make_unique<statement>(
            db.handle(), "UPDATE counters SET value = max(value, ?1) WHERE name = 'next_job_id'");
    }

    void apply(const job_row& row) {
        if (!row.whole) {
            bind_state(*update_state, row);
            update_state->run();
            if (sqlite3_changes(db.handle()) == 0) {
                missing.push_back(row.id);  // its whole row is not there: the next record brings it
            }
            return;
        }
        bind_row(*upsert, row);
        upsert->run();
        if (row.id >= next_id_saved) {  // most writes update a job the counter already covers
            next_id->bind(1, row.id + 1).run();
            next_id_saved = row.id + 1;
        }
    }
    void apply(const forget_job& f) {
        remove->bind(1, f.id).run();
        if (!f.output_file.empty()) {
            unlink_after_commit.push_back(f.output_file);
        }
    }
    void apply(const jobs::audit_entry& e) {
        add_audit->bind(1, to_ns(e.time)).bind(2, e.actor).bind(3, e.action);
        add_audit->bind(4, static_cast<std::int64_t>(e.job)).bind(5, e.detail).run();
        ++audits;
    }
    void apply(const std::function<void(database&)>& query) { queries.push_back(&query); }

    database db;
    std::unique_ptr<statement> upsert, update_state, remove, add_audit, next_id;
    /// Jobs a state-only row found no whole row for, or whose whole row failed to commit.
    std::vector<std::int64_t> missing;
    std::vector<std::string> unlink_after_commit;
    std::vector<const std::function<void(database&)>*> queries;
    std::uint64_t audits = 0;
    std::int64_t next_id_saved = 0;  // the counter's value in the database
};

result_info<std::unique_ptr<sqlite_store>> sqlite_store::open(net::any_io_executor executor,
                                                              store_options options) {
    std::unique_ptr<sqlite_store> s(new sqlite_store(executor, std::move(options)));
    try {
        s->writer_ = std::make_unique<writer>(s->options_.path, s->options_.full_sync);
        statement next(s->writer_->db.handle(), "SELECT value FROM counters WHERE name = 'next_job_id'");
        s->loaded_.next_id = next.step() ? static_cast<jobs::job_id>(next.integer(0)) : 1;
        s->writer_->next_id_saved = static_cast<std::int64_t>(s->loaded_.next_id);
        statement rows(s->writer_->db.handle(), select_jobs_sql);
        while (rows.step()) {
            auto j = make_job(read_row(rows), executor);
            if (!j) {
                spdlog::error("store: {} (the row is left as it is)", j.error().what());
                continue;
            }
            s->loaded_.next_id = std::max(s->loaded_.next_id, (*j)->id + 1);
            s->loaded_.jobs.push_back(std::move(*j));
        }
        statement schedules(s->writer_->db.handle(), "SELECT name, definition, added, last_run_ns FROM schedules");
        while (schedules.step()) {
            jobs::schedule_record r{schedules.text(0), schedules.text(1), schedules.integer(2) != 0, std::nullopt};
            if (!schedules.is_null(3)) {
                r.last_run = from_ns(schedules.integer(3));
            }
            s->loaded_.schedules.push_back(std::move(r));
        }
    } catch (const sqlite_error& e) {
        return error_info{errc::store_failed, fmt::format("store '{}': {}", s->options_.path, e.what())};
    }
    s->thread_ = std::thread([p = s.get()] { p->writer_loop(); });
    return s;
}

sqlite_store::sqlite_store(net::any_io_executor executor, store_options options)
    : executor_(executor), options_(std::move(options)), commits_(std::make_shared<commit_state>(executor)) {
    commits_->stats = &stats_;
}

sqlite_store::~sqlite_store() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) {
        thread_.join();
    }
    commits_->stats = nullptr;
}

std::uint64_t sqlite_store::enqueue(op o) {
    o.seq = ++queued_seq_;
    const auto seq = o.seq;
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(o));
    }
    wake_.notify_one();
    return seq;
}

std::uint64_t sqlite_store::save(const jobs::job& j) {
    return enqueue({0, to_row(j, output_file(j.id))});
}

std::uint64_t sqlite_store::save_changes(const jobs::job& j, bool starting) {
    bool whole = false;
    if (missing_count_.load(std::memory_order_relaxed) != 0) {
        std::lock_guard lock(mutex_);
        whole = missing_.erase(static_cast<std::int64_t>(j.id)) != 0;
        missing_count_.store(missing_.size(), std::memory_order_relaxed);
    }
    auto row = to_row(j, output_file(j.id), whole);
    if (starting) {
        row.state = std::string(jobs::to_string(jobs::job_state::running));
    }
    return enqueue({0, std::move(row)});
}

std::uint64_t sqlite_store::save_state(const jobs::job& j) {
    return save_changes(j, false);
}

std::uint64_t sqlite_store::starting(const jobs::job& j) {
    return save_changes(j, true);
}

void sqlite_store::forget(const jobs::job& j) {
    if (missing_count_.load(std::memory_order_relaxed) != 0) {
        std::lock_guard lock(mutex_);
        missing_.erase(static_cast<std::int64_t>(j.id));
        missing_count_.store(missing_.size(), std::memory_order_relaxed);
    }
    const bool has_file = j.log && j.log->saved();
    enqueue({0, forget_job{static_cast<std::int64_t>(j.id), has_file ? output_file(j.id) : std::string()}});
}

void sqlite_store::audit(jobs::audit_entry entry) {
    enqueue({0, std::move(entry)});
}

void sqlite_store::save_schedule(jobs::schedule_record r) {
    // A schedule's record rides the writer's queue, after the jobs it submitted.
    enqueue({0, std::function<void(database&)>([r = std::move(r)](database& db) {
                 try {
                     statement s(db.handle(),
                                 "INSERT OR REPLACE INTO schedules (name, definition, added, last_run_ns) VALUES (?1, ?2, ?3, ?4)");
                     s.bind(1, r.name).bind(2, r.definition).bind(3, std::int64_t{r.added ? 1 : 0});
                     s.bind(4, r.last_run ? std::optional(to_ns(*r.last_run)) : std::nullopt);
                     s.run();
                 } catch (const std::exception& e) {
                     spdlog::error("store: schedule {} was not recorded: {}", r.name, e.what());
                 }
             })});
}

void sqlite_store::forget_schedule(std::string name) {
    enqueue({0, std::function<void(database&)>([name = std::move(name)](database& db) {
                 try {
                     statement s(db.handle(), "DELETE FROM schedules WHERE name = ?1");
                     s.bind(1, name).run();
                 } catch (const std::exception& e) {
                     spdlog::error("store: schedule {} was not removed: {}", name, e.what());
                 }
             })});
}

std::string sqlite_store::output_file(jobs::job_id id) const {
    return options_.output_dir.empty() ? std::string() : fmt::format("{}/{}.out", options_.output_dir, id);
}

net::awaitable<result_info<void>> sqlite_store::flush(std::uint64_t seq) {
    auto state = commits_;
    while (state->done < seq) {
        co_await state->committed.wait();
    }
    if (const auto* why = state->failure_of(seq)) {
        co_return error_info{errc::store_failed, fmt::format("the store could not commit: {}", *why)};
    }
    co_return result_info<void>{};
}

net::awaitable<result_info<void>> sqlite_store::flush() {
    co_return co_await flush(queued_seq_);
}

net::awaitable<result_info<jobs::audit_page>> sqlite_store::audit_trail(jobs::job_id job,
                                                                        std::size_t limit,
                                                                        std::int64_t before) {
    // Runs on the writer thread; the page comes back through `page` once flush() says it ran.
    auto page = std::make_shared<result_info<jobs::audit_page>>(jobs::audit_page{});
    enqueue({0, std::function<void(database&)>([page, job, limit, before](database& db) {
                 try {
                     statement s(
                         db.handle(),
                         "SELECT seq, time_ns, actor, action, job, detail FROM audit "
                         "WHERE (?1 = 0 OR job = ?1) AND (?2 = 0 OR seq < ?2) ORDER BY seq DESC LIMIT ?3");
                     s.bind(1, static_cast<std::int64_t>(job)).bind(2, before);
                     s.bind(3, static_cast<std::int64_t>(limit + 1));
                     auto& out = page->value();
                     while (s.step()) {
                         if (out.entries.size() == limit) {
                             out.next = s.integer(0) + 1;  // `before` is exclusive
                             break;
                         }
                         out.entries.push_back({from_ns(s.integer(1)),
                                                s.text(2),
                                                s.text(3),
                                                static_cast<jobs::job_id>(s.integer(4)),
                                                s.text(5)});
                     }
                 } catch (const sqlite_error& e) {
                     *page = error_info{errc::store_failed, e.what()};
                 }
             })});
    auto flushed = co_await flush();
    if (!flushed) {
        co_return flushed.error();
    }
    co_return std::move(*page);
}

// A short job's queued, running and finished rows often meet in one batch: only the last is written.
// When the first is its whole row and the last only its state, the last becomes whole (a copy of the
// first with the last state): one INSERT, no UPDATE, and the first stays as it was for a retry.
std::vector<bool> sqlite_store::superseded_rows(std::vector<op>& batch) {
    std::vector<bool> skip(batch.size(), false);
    std::unordered_map<std::int64_t, std::size_t> last;  // job → index of its last row in the batch
    for (std::size_t i = batch.size(); i-- > 0;) {
        auto* row = std::get_if<job_row>(&batch[i].what);
        if (!row) {
            continue;
        }
        auto [it, first_seen] = last.try_emplace(row->id, i);
        if (first_seen) {
            continue;
        }
        skip[i] = true;
        auto& latest = std::get<job_row>(batch[it->second].what);
        if (row->whole && !latest.whole) {
            job_row merged = *row;
            copy_state(merged, latest);
            latest = std::move(merged);
        }
    }
    return skip;
}

std::string sqlite_store::commit_range(const std::vector<op>& batch,
                                       const std::vector<bool>& superseded,
                                       std::size_t from,
                                       std::size_t to) {
    auto& w = *writer_;
    std::string failure;
    try {
        w.db.exec("BEGIN IMMEDIATE");
        for (std::size_t i = from; i < to; ++i) {
            if (!superseded[i]) {
                std::visit([&](const auto& what) { w.apply(what); }, batch[i].what);
            }
        }
        if (options_.max_audit != 0 && w.audits >= 1000) {
            w.db.exec(fmt::format("DELETE FROM audit WHERE seq <= (SELECT max(seq) FROM audit) - {}",
                                  options_.max_audit));
            w.audits = 0;
        }
        w.db.exec("COMMIT");
    } catch (const sqlite_error& e) {
        failure = e.what();
        spdlog::error("store: a commit of {} write(s) failed: {}", to - from, failure);
        try {
            w.db.exec("ROLLBACK");
        } catch (const sqlite_error&) {
            // already rolled back by SQLite
        }
        w.unlink_after_commit.clear();
        w.next_id_saved = 0;  // the counter's update may be gone with the rest: redo it
    }
    for (const auto& file : w.unlink_after_commit) {
        ::unlink(file.c_str());
    }
    w.unlink_after_commit.clear();
    return failure;
}

void sqlite_store::lost_whole_row(const op& o) {
    if (const auto* row = std::get_if<job_row>(&o.what); row && row->whole) {
        writer_->missing.push_back(row->id);
    }
}

void sqlite_store::note_missing() {
    auto& w = *writer_;
    if (w.missing.empty()) {
        return;
    }
    std::lock_guard lock(mutex_);
    for (const auto id : w.missing) {
        spdlog::warn("store: job {} has no whole record (a commit that held it failed): its next one is whole", id);
        missing_.insert(id);
    }
    missing_count_.store(missing_.size(), std::memory_order_relaxed);
    w.missing.clear();
}

void sqlite_store::run_queries() {
    auto& w = *writer_;
    for (const auto* query : w.queries) {
        (*query)(w.db);
    }
    w.queries.clear();
}

void sqlite_store::report(
    std::uint64_t first, std::uint64_t last, std::size_t writes, std::string failure, bool retried) {
    net::post(executor_,
              [state = commits_,
               first,
               last,
               writes,
               retried,
               failure = std::move(failure)] {
                  state->done = last;
                  if (!failure.empty()) {
                      // Bounded: a disk that keeps failing must not grow this without end. Waiters
                      // for records that old are long gone.
                      if (state->failed.size() >= 4096) {
                          state->failed.erase(state->failed.begin());
                      }
                      state->failed.emplace(first, std::make_pair(last, failure));
                  }
                  if (state->stats) {
                      ++state->stats->batches;
                      state->stats->writes += writes;
                      state->stats->failures += failure.empty() ? 0 : 1;
                      state->stats->retried += retried ? writes : 0;
                  }
                  state->committed.notify_all();
              });
}

void sqlite_store::writer_loop() {
    for (;;) {
        std::vector<op> batch;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
            if (queue_.empty()) {
                return;  // stopping, and everything is written
            }
            batch.swap(queue_);
        }
        const auto superseded = superseded_rows(batch);
        for (std::size_t from = 0; from < batch.size(); from += options_.max_batch) {
            const std::size_t to = std::min(batch.size(), from + options_.max_batch);
            auto failure = commit_range(batch, superseded, from, to);
            if (failure.empty() || to - from == 1) {
                if (!failure.empty()) {
                    lost_whole_row(batch[from]);
                }
                note_missing();
                run_queries();
                report(batch[from].seq, batch[to - 1].seq, to - from, std::move(failure));
                continue;
            }
            // One bad record (a constraint, a trigger) must not fail the records it was batched with:
            // their submitters would get "could not be recorded" for a neighbour's fault. Each is
            // tried again on its own, in order and none skipped (a row a later one superseded is
            // written too, in case the later one is the bad one); only what fails alone is failed.
            spdlog::warn("store: trying the {} write(s) of the failed commit one by one", to - from);
            writer_->queries.clear();  // the retries queue them again
            const std::vector<bool> none(batch.size(), false);
            for (std::size_t i = from; i < to; ++i) {
                auto alone = commit_range(batch, none, i, i + 1);
                if (!alone.empty()) {
                    lost_whole_row(batch[i]);
                }
                note_missing();
                run_queries();
                report(batch[i].seq, batch[i].seq, 1, std::move(alone), true);
            }
        }
    }
}

}  // namespace corral::store
