// The scheduler's enqueue latency as the queue grows (target: 10^5 queued costs <= 1.5x 10^3 queued),
// the memory a queued job costs in job_service (target: <= 2 KB), and the core time a finished job
// takes to release (or fail) 10,000 jobs waiting on it (target: <= 50 ms), beside the time 10,000
// submits take in the same run.
#include <malloc.h>

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <random>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "corral/sched/scheduler.hpp"
#include "corral/services/job_service.hpp"
#ifdef CORRAL_BENCH_STORE
#include "corral/store/sqlite_store.hpp"
#endif

namespace {

using namespace corral;

void BM_Enqueue(benchmark::State& state) {
    const auto queued = static_cast<sched::job_id>(state.range(0));
    sched::scheduler s({.slots = 1, .max_queued = 0});
    std::mt19937 random(42);
    for (sched::job_id id = 1; id <= queued; ++id) {
        (void)s.push(id, static_cast<int>(random() % 10), id % 3 == 0 ? "db" : "");
    }
    sched::job_id next = queued + 1;
    for (auto _ : state) {
        // One more job in and out again, so the queue stays at its size: what a submit then a
        // cancel (or a start) costs with `queued` jobs waiting.
        auto p = s.push(next, static_cast<int>(next % 10), "");
        s.cancel(next, *p, "");
        ++next;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Enqueue)->Arg(1'000)->Arg(10'000)->Arg(100'000);

/// The same through job_service: a whole submit (job record, output log, queue) and a cancel.
void BM_Submit(benchmark::State& state) {
    net::io_context io;
    auto service = services::job_service::create(io.get_executor(), {.max_queued = 0});
    auto& jobs = **service;
    jobs.set_draining(true);
    std::mt19937 random(42);
    auto submit = [&](int priority) {
        services::submit_request r;
        r.owner = "bench";
        r.spec.process.argv = {"/bin/true"};
        r.spec.priority = priority;
        return *jobs.submit(std::move(r));
    };
    for (std::int64_t i = 0; i < state.range(0); ++i) {
        submit(static_cast<int>(random() % 10));
    }
    for (auto _ : state) {
        auto* j = submit(static_cast<int>(random() % 10));
        (void)jobs.kill(*j, std::nullopt, std::nullopt);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Submit)->Arg(1'000)->Arg(10'000)->Arg(100'000);

/// Heap bytes a queued job costs (job record, spec, empty output log, queue entry). mallinfo2 counts
/// the main thread's arena only, which is where the service makes all of these; with a store, the
/// bytes counted are after the store has committed and freed its writes.
void measure_queued_job_memory(benchmark::State& state, services::job_service& service, net::io_context& io) {
    service.set_draining(true);
    const auto before = mallinfo2().uordblks;
    constexpr int jobs = 10'000;
    for (int i = 0; i < jobs; ++i) {
        services::submit_request r;
        r.owner = "bench";
        r.spec.process.argv = {"/bin/true"};
        (void)service.submit(std::move(r));
    }
    // With a store: wait for the commit, then for one more, so the writer thread has also freed the
    // first batch (it frees a batch after reporting its commit).
    auto settle = [&]() -> net::awaitable<void> {
        (void)co_await service.flush();
        if (service.durable()) {
            service.audit("bench", "mark", 0, {});
            (void)co_await service.flush();
        }
    };
    net::co_spawn(io, settle(), net::detached);
    io.run();
    const auto after = mallinfo2().uordblks;
    state.counters["bytes_per_queued_job"] = static_cast<double>(after - before) / jobs;
}

void BM_QueuedJobMemory(benchmark::State& state) {
    for (auto _ : state) {
        net::io_context io;
        auto service = services::job_service::create(io.get_executor(), {.max_queued = 0});
        measure_queued_job_memory(state, **service, io);
    }
}
BENCHMARK(BM_QueuedJobMemory)->Iterations(1)->Unit(benchmark::kMillisecond);

#ifdef CORRAL_BENCH_STORE
/// The same with the SQLite store attached, as corrald runs by default: each job also names its
/// output file, and the journal keeps nothing per job in memory once committed.
void BM_QueuedJobMemoryWithStore(benchmark::State& state) {
    for (auto _ : state) {
        const auto dir = std::filesystem::temp_directory_path() / fmt::format("corral-bench-{}", getpid());
        std::filesystem::create_directories(dir / "output");
        {
            net::io_context io;
            auto service = services::job_service::create(io.get_executor(), {.max_queued = 0});
            auto db = store::sqlite_store::open(
                io.get_executor(),
                {.path = (dir / "corral.db").string(), .output_dir = (dir / "output").string()});
            if (!db) {
                state.SkipWithError(db.error().what().c_str());
                break;
            }
            (*service)->set_journal(db->get());
            measure_queued_job_memory(state, **service, io);
            (*service)->set_journal(nullptr);
        }
        std::filesystem::remove_all(dir);
    }
}
BENCHMARK(BM_QueuedJobMemoryWithStore)->Iterations(1)->Unit(benchmark::kMillisecond);
#endif

double thread_cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

/// A job with `range(0)` dependents ends: the core time until every one of them has moved on (queued
/// for `after_any`; failed, for `after_ok`, since the head is killed). Drain mode keeps them from
/// starting, so only the release is timed.
void release_dependents(benchmark::State& state, bool ok_required, bool with_store) {
    const auto dependents = state.range(0);
    double core_ms = 0;  // the core thread's own CPU time: what the wall time adds is the store's thread
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("corral-bench-release-{}", getpid());
    for (auto _ : state) {
        state.PauseTiming();
        std::filesystem::create_directories(dir / "output");
        net::io_context io;
        auto service = services::job_service::create(io.get_executor(), {.max_queued = 0});
        auto& jobs = **service;
#ifdef CORRAL_BENCH_STORE
        std::unique_ptr<store::sqlite_store> db;
        if (with_store) {
            db = std::move(*store::sqlite_store::open(
                io.get_executor(), {.path = (dir / "corral.db").string(), .output_dir = (dir / "output").string()}));
            jobs.set_journal(db.get());
        }
#else
        (void)with_store;
#endif
        jobs.set_draining(true);
        services::submit_request head;
        head.owner = "bench";
        head.spec.process.argv = {"/bin/true"};
        auto* first = *jobs.submit(std::move(head));
        for (std::int64_t i = 0; i < dependents; ++i) {
            services::submit_request r;
            r.owner = "bench";
            r.spec.process.argv = {"/bin/true"};
            auto& flow = r.spec.workflow.edit();
            (ok_required ? flow.after_ok : flow.after_any) = {first->id};
            (void)jobs.submit(std::move(r));
        }
        // The setup's records are committed first: the writer thread must not be busy with them
        // while the release is timed.
        bool flushed = false;
        net::co_spawn(io, jobs.flush(), [&](std::exception_ptr, auto) { flushed = true; });
        while (!flushed) {
            io.run_one();
        }
        state.ResumeTiming();
        const auto cpu_before = thread_cpu_ms();
        (void)jobs.kill(*first, std::nullopt, std::nullopt);
        core_ms += thread_cpu_ms() - cpu_before;
        state.PauseTiming();
        if (jobs.all().back()->state == jobs::job_state::waiting) {
            state.SkipWithError("the dependents were not released");
        }
        jobs.set_journal(nullptr);
        state.ResumeTiming();
    }
    std::filesystem::remove_all(dir);
    state.SetItemsProcessed(state.iterations() * dependents);
    state.counters["core_ms"] = core_ms / static_cast<double>(state.iterations());
}

void BM_ReleaseDependents(benchmark::State& state) {
    release_dependents(state, false, false);
}
BENCHMARK(BM_ReleaseDependents)->Arg(10'000)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_FailDependents(benchmark::State& state) {
    release_dependents(state, true, false);
}
BENCHMARK(BM_FailDependents)->Arg(10'000)->Unit(benchmark::kMillisecond)->Iterations(5);

#ifdef CORRAL_BENCH_STORE
void BM_ReleaseDependentsWithStore(benchmark::State& state) {
    release_dependents(state, false, true);
}
BENCHMARK(BM_ReleaseDependentsWithStore)->Arg(10'000)->Unit(benchmark::kMillisecond)->Iterations(5);
#endif

/// The ceiling to compare with: 10,000 plain submits (record, log, queue) on the same core.
void BM_SubmitTenThousand(benchmark::State& state) {
    for (auto _ : state) {
        state.PauseTiming();
        net::io_context io;
        auto service = services::job_service::create(io.get_executor(), {.max_queued = 0});
        auto& jobs = **service;
        jobs.set_draining(true);
        state.ResumeTiming();
        for (int i = 0; i < 10'000; ++i) {
            services::submit_request r;
            r.owner = "bench";
            r.spec.process.argv = {"/bin/true"};
            (void)jobs.submit(std::move(r));
        }
        state.PauseTiming();
        service->reset();
        state.ResumeTiming();
    }
}
BENCHMARK(BM_SubmitTenThousand)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
