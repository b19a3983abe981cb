// spawn → reap of `true`: corral's executor against a raw posix_spawn + waitpid loop, with a small
// parent and with a parent holding 1 GiB (spawn cost must not grow with the daemon's size).
//   bench/spawn_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
#include <spawn.h>
#include <sys/wait.h>

#include <cstring>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "compare_reporter.hpp"
#include "corral/jobs/job_runner.hpp"
#include "corral/proc/launcher.hpp"

extern char** environ;

namespace {

using namespace corral;

// Makes the process resident-large for the benchmark's duration (touched, so it is really mapped).
struct ballast {
    explicit ballast(std::int64_t mib) : bytes(static_cast<std::size_t>(mib) << 20) {
        if (!bytes.empty()) {
            std::memset(bytes.data(), 1, bytes.size());
        }
    }
    std::vector<char> bytes;
};

void raw(benchmark::State& state) {
    ballast b(state.range(0));
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    for (auto _ : state) {
        pid_t pid;
        if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0) {
            state.SkipWithError("posix_spawn failed");
            break;
        }
        int status;
        ::waitpid(pid, &status, 0);
    }
    state.SetItemsProcessed(state.iterations());
}

void corral_spawn(benchmark::State& state) {
    ballast b(state.range(0));
    net::io_context ioc;
    auto launcher = std::move(*proc::launcher::create(ioc.get_executor()));
    state.SetLabel(launcher->mechanism() == proc::tree_mode::cgroup ? "cgroup" : "process_group");
    proc::spawn_options options;
    options.argv = {"/bin/true"};
    for (auto _ : state) {
        auto child = launcher->spawn(options);
        if (!child) {
            state.SkipWithError(child.error().what().c_str());
            break;
        }
        net::co_spawn(ioc, child->wait(), net::detached);
        ioc.restart();
        ioc.run();
    }
    state.SetItemsProcessed(state.iterations());
}

// start(): the exec is awaited through the reactor instead of blocking in clone(CLONE_VFORK).
void corral_start(benchmark::State& state) {
    ballast b(state.range(0));
    net::io_context ioc;
    auto launcher = std::move(*proc::launcher::create(ioc.get_executor()));
    proc::spawn_options options;
    options.argv = {"/bin/true"};
    bool failed = false;
    auto once = [&]() -> net::awaitable<void> {
        auto child = co_await launcher->start(options);
        if (!child) {
            failed = true;
            co_return;
        }
        co_await child->wait();
    };
    for (auto _ : state) {
        net::co_spawn(ioc, once(), net::detached);
        ioc.restart();
        ioc.run();
        if (failed) {
            state.SkipWithError("start failed");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
}

// The whole job path: spawn, pump output into the log, reap, record.
void corral_job(benchmark::State& state) {
    ballast b(state.range(0));
    net::io_context ioc;
    auto launcher = std::move(*proc::launcher::create(ioc.get_executor()));
    jobs::job_table table;
    jobs::job_runner runner(*launcher, table);
    jobs::job_spec spec;
    spec.process.argv = {"/bin/true"};
    for (auto _ : state) {
        auto& j = table.add("bench", spec, std::move(*output::output_log::create(ioc.get_executor())));
        net::co_spawn(ioc, runner.run(j), net::detached);
        ioc.restart();
        ioc.run();
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(raw)->Name("spawn/raw")->Arg(0)->Arg(1024)->ArgName("parent_mib")->MinTime(1.0)->UseRealTime();
BENCHMARK(corral_spawn)
    ->Name("spawn/corral")
    ->Arg(0)
    ->Arg(1024)
    ->ArgName("parent_mib")
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK(corral_start)
    ->Name("spawn/corral_start")
    ->Arg(0)
    ->Arg(1024)
    ->ArgName("parent_mib")
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK(corral_job)
    ->Name("spawn/corral_job")
    ->Arg(0)
    ->Arg(1024)
    ->ArgName("parent_mib")
    ->MinTime(1.0)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
    return corral::bench::run_benchmarks(argc,
                                         argv,
                                         {{"spawn->reap, small parent",
                                           "spawn/raw/parent_mib:0/min_time:1.000/real_time",
                                           "spawn/corral/parent_mib:0/min_time:1.000/real_time",
                                           "items_per_second",
                                           true,
                                           0.8},
                                          {"spawn->reap, 1 GiB parent",
                                           "spawn/raw/parent_mib:1024/min_time:1.000/real_time",
                                           "spawn/corral/parent_mib:1024/min_time:1.000/real_time",
                                           "items_per_second",
                                           true,
                                           0.8},
                                          {"start() (exec awaited), small parent",
                                           "spawn/raw/parent_mib:0/min_time:1.000/real_time",
                                           "spawn/corral_start/parent_mib:0/min_time:1.000/real_time",
                                           "items_per_second",
                                           true,
                                           0.8},
                                          {"whole job (log, pumps), small parent",
                                           "spawn/raw/parent_mib:0/min_time:1.000/real_time",
                                           "spawn/corral_job/parent_mib:0/min_time:1.000/real_time",
                                           "items_per_second",
                                           true,
                                           0.8}});
}
