// Kill-tree latency: from the stop request until every process of a 20-process tree is gone
// (its pidfd readable), p50 and p99, per mechanism and plan; "survivors" counts processes still alive
// afterwards and must be 0. The baseline is a bare kill(-pgid, SIGKILL), which a setsid escapee survives.
//   bench/killtree_bench
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "compare_reporter.hpp"
#include "corral/proc/launcher.hpp"

namespace {

using namespace corral;
using clock_type = std::chrono::steady_clock;

const std::string fake_child = FAKE_CHILD_PATH;
constexpr int tree_size = 20;

enum class how { bare_killpg, stop_kill, stop_term };

std::vector<pid_t> wait_for_pids(const std::string& file) {
    std::vector<pid_t> pids;
    for (int tries = 0; tries < 5000 && static_cast<int>(pids.size()) < tree_size; ++tries) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        pids.clear();
        std::ifstream in(file);
        for (pid_t p; in >> p;) {
            pids.push_back(p);
        }
    }
    return pids;
}

bool all_gone(const std::vector<int>& pidfds) {
    for (int fd : pidfds) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 0) == 0) {
            return false;
        }
    }
    return true;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0
                     : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

void kill_tree(benchmark::State& state, proc::tree_mode mode, how method, bool escapee) {
    net::io_context ioc;
    auto launcher = proc::launcher::create(ioc.get_executor(), {.tree = mode, .subreaper = true});
    if (!launcher) {
        state.SkipWithError(launcher.error().what().c_str());
        return;
    }
    state.SetLabel((*launcher)->mechanism() == proc::tree_mode::cgroup ? "cgroup" : "process_group");
    const std::string pid_file = (std::filesystem::temp_directory_path() / "corral-killtree-bench").string();
    std::vector<double> samples;
    std::int64_t survivors = 0;
    for (auto _ : state) {
        std::filesystem::remove(pid_file);
        proc::spawn_options o;
        o.argv = {fake_child, "pidfile", pid_file};
        if (escapee) {
            o.argv.insert(o.argv.end(),
                          {"daemonize", "fork", std::to_string(tree_size - 2), "sleep", "100000"});
        } else {
            o.argv.insert(o.argv.end(), {"fork", std::to_string(tree_size - 1), "sleep", "100000"});
        }
        auto child = std::move(*(*launcher)->spawn(o));
        auto pids = wait_for_pids(pid_file);
        std::vector<int> pidfds;
        for (pid_t p : pids) {
            pidfds.push_back(static_cast<int>(::syscall(SYS_pidfd_open, p, 0U)));
        }
        auto start = clock_type::now();
        if (method == how::bare_killpg) {
            ::kill(-child.pid(), SIGKILL);
            while (!all_gone(pidfds) && clock_type::now() - start < std::chrono::milliseconds(500)) {
            }
        } else {
            auto plan = method == how::stop_kill ? proc::stop_plan::kill_now()
                                                 : proc::stop_plan({{SIGTERM, std::chrono::seconds(1)}});
            net::co_spawn(ioc, child.stop(plan), net::detached);
            ioc.restart();
            ioc.run();
        }
        auto elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
        state.SetIterationTime(elapsed);
        samples.push_back(elapsed * 1000);
        for (int fd : pidfds) {
            pollfd p{fd, POLLIN, 0};
            survivors += ::poll(&p, 1, 0) == 0 ? 1 : 0;
            ::close(fd);
        }
        child.signal_tree(SIGKILL);  // the bare baseline leaves escapees: clean up outside the timing
        net::co_spawn(ioc, child.wait(), net::detached);
        ioc.restart();
        ioc.run();
    }
    state.counters["p50_ms"] = percentile(samples, 0.50);
    state.counters["p99_ms"] = percentile(samples, 0.99);
    state.counters["survivors"] = static_cast<double>(survivors);
}

#define CORRAL_KILL_BENCH(name, mode, method, escapee, iterations)                  \
    BENCHMARK_CAPTURE(kill_tree, name, proc::tree_mode::mode, how::method, escapee) \
        ->Name("killtree/" #name)                                                   \
        ->Iterations(iterations)                                                    \
        ->UseManualTime()                                                           \
        ->Unit(benchmark::kMillisecond)

CORRAL_KILL_BENCH(bare_killpg, process_group, bare_killpg, false, 200);
CORRAL_KILL_BENCH(
    bare_killpg_escapee, process_group, bare_killpg, true, 10);  // each waits 500 ms for a survivor
CORRAL_KILL_BENCH(cgroup_kill, cgroup, stop_kill, false, 200);
CORRAL_KILL_BENCH(cgroup_kill_escapee, cgroup, stop_kill, true, 200);
CORRAL_KILL_BENCH(cgroup_term, cgroup, stop_term, true, 200);
CORRAL_KILL_BENCH(pgroup_kill, process_group, stop_kill, false, 200);
CORRAL_KILL_BENCH(pgroup_kill_escapee, process_group, stop_kill, true, 200);
CORRAL_KILL_BENCH(pgroup_term, process_group, stop_term, true, 200);

}  // namespace

int main(int argc, char** argv) {
    auto name = [](const char* n) { return std::string("killtree/") + n + "/iterations:200/manual_time"; };
    // target: p99 <= 50 ms for a KILL plan, 0 survivors (printed in the table above)
    return corral::bench::run_benchmarks(argc,
                                         argv,
                                         {{"p99 ms, bare kill(-pgid) vs cgroup KILL plan",
                                           name("bare_killpg"),
                                           name("cgroup_kill"),
                                           "p99_ms",
                                           false,
                                           0},
                                          {"p99 ms, bare kill(-pgid) vs pgroup KILL plan",
                                           name("bare_killpg"),
                                           name("pgroup_kill"),
                                           "p99_ms",
                                           false,
                                           0}});
}
