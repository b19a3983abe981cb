// 256 MiB of output: a bare pipe read (the limit) against corral's executor pumping into the output
// log, in memory (oldest chunks dropped past 8 MiB) and with a spill file keeping everything.
//   bench/output_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "compare_reporter.hpp"
#include "corral/jobs/job_runner.hpp"

extern char** environ;

namespace {

using namespace corral;

constexpr std::int64_t total_bytes = 256LL << 20;
const std::string fake_child = FAKE_CHILD_PATH;

void bare_pipe(benchmark::State& state) {
    std::string bytes = std::to_string(total_bytes);
    char* argv[] = {const_cast<char*>(fake_child.c_str()), const_cast<char*>("spew"), bytes.data(), nullptr};
    std::vector<char> buf(256 * 1024);
    for (auto _ : state) {
        int fds[2];
        ::pipe2(fds, O_CLOEXEC);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        pid_t pid;
        posix_spawn(&pid, fake_child.c_str(), &fa, nullptr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        ::close(fds[1]);
        std::int64_t got = 0;
        for (ssize_t n; (n = ::read(fds[0], buf.data(), buf.size())) > 0;) {
            got += n;
        }
        ::close(fds[0]);
        int status;
        ::waitpid(pid, &status, 0);
        if (got != total_bytes) {
            state.SkipWithError("short read");
        }
    }
    state.SetBytesProcessed(state.iterations() * total_bytes);
}

void corral_log(benchmark::State& state, bool spill) {
    net::io_context ioc;
    auto launcher = std::move(*proc::launcher::create(ioc.get_executor()));
    jobs::job_table table;
    jobs::job_runner runner(*launcher, table);
    jobs::job_spec spec;
    spec.process.argv = {fake_child, "spew", std::to_string(total_bytes)};
    if (spill) {
        spec.output.spill_dir = std::filesystem::temp_directory_path().string();
    }
    for (auto _ : state) {
        auto& j =
            table.add("bench", spec, std::move(*output::output_log::create(ioc.get_executor(), spec.output)));
        net::co_spawn(ioc, runner.run(j), net::detached);
        ioc.restart();
        ioc.run();
        if (j.log->end_offset() != static_cast<std::uint64_t>(total_bytes) ||
            j.state != jobs::job_state::succeeded) {
            state.SkipWithError("job did not deliver every byte");
        }
    }
    state.SetBytesProcessed(state.iterations() * total_bytes);
}

BENCHMARK(bare_pipe)->Name("output/bare_pipe")->MinTime(2.0)->UseRealTime();
BENCHMARK_CAPTURE(corral_log, memory, false)->Name("output/corral_log")->MinTime(2.0)->UseRealTime();
BENCHMARK_CAPTURE(corral_log, spill, true)->Name("output/corral_log_spill")->MinTime(2.0)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
    return corral::bench::run_benchmarks(argc,
                                         argv,
                                         {{"256 MiB into the log (memory)",
                                           "output/bare_pipe/min_time:2.000/real_time",
                                           "output/corral_log/min_time:2.000/real_time",
                                           "bytes_per_second",
                                           true,
                                           0.8},
                                          {"256 MiB into the log (spill file)",
                                           "output/bare_pipe/min_time:2.000/real_time",
                                           "output/corral_log_spill/min_time:2.000/real_time",
                                           "bytes_per_second",
                                           true,
                                           0.8}});
}
