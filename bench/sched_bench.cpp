// The scheduler's enqueue latency as the queue grows (target: 10^5 queued costs <= 1.5x 10^3 queued),
// and the memory a queued job costs in job_service (target: <= 2 KB).
#include <malloc.h>

#include <random>

#include <benchmark/benchmark.h>
#include <boost/asio/io_context.hpp>

#include "corral/sched/scheduler.hpp"
#include "corral/services/job_service.hpp"

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

void BM_QueuedJobMemory(benchmark::State& state) {
    for (auto _ : state) {
        net::io_context io;
        auto service = services::job_service::create(io.get_executor(), {.max_queued = 0});
        (*service)->set_draining(true);
        const auto before = mallinfo2().uordblks;
        constexpr int jobs = 10'000;
        for (int i = 0; i < jobs; ++i) {
            services::submit_request r;
            r.owner = "bench";
            r.spec.process.argv = {"/bin/true"};
            (void)(*service)->submit(std::move(r));
        }
        const auto after = mallinfo2().uordblks;
        state.counters["bytes_per_queued_job"] = static_cast<double>(after - before) / jobs;
    }
}
BENCHMARK(BM_QueuedJobMemory)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
