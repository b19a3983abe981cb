// Runs and watches jobs inside the program's own io_context with libcorral: three jobs at once, one
// follower per job printing complete lines as they arrive, one job stopped by its time limit.
//
//   $ ./embed_jobs
//   [job 1] hello from job 1
//   ...
//   job 3 timed_out: timed out after 300ms
//   all 3 jobs finished
#include <cstdio>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>

#include <corral/core/log_exceptions.hpp>
#include <corral/jobs/job_runner.hpp>
#include <corral/output/line_view.hpp>

namespace net = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using namespace corral;

// Prints a job's complete lines as they arrive, until its output ends.
net::awaitable<void> follow(jobs::job& j) {
    output::line_view lines(*j.log);
    while (!lines.finished()) {
        co_await j.log->wait_for(lines.cursor());
        for (const auto& line : lines.take()) {
            std::printf("[job %llu] %s\n", static_cast<unsigned long long>(j.id), line.c_str());
        }
    }
}

net::awaitable<void> run_and_follow(jobs::job_runner& runner, jobs::job& j) {
    co_await (runner.run(j) && follow(j));
    std::printf("job %llu %s: %s\n",
                static_cast<unsigned long long>(j.id),
                std::string(to_string(j.state)).c_str(),
                j.reason.c_str());
}

int main() {
    net::io_context ioc;
    auto launcher = proc::launcher::create(ioc.get_executor());
    if (!launcher) {
        std::fprintf(stderr, "%s\n", launcher.error().what().c_str());
        return 1;
    }
    jobs::job_table table;
    jobs::job_runner runner(**launcher, table);

    std::vector<jobs::job_spec> specs(3);
    specs[0].process.argv = {"echo", "hello from job 1"};
    specs[1].process.shell_command = "for i in 1 2 3; do echo line $i; sleep 0.05; done; echo oops >&2";
    specs[2].process.argv = {"sleep", "30"};
    specs[2].timeout = std::chrono::milliseconds(300);

    int finished = 0;
    table.subscribe([&](const jobs::job&, jobs::job_event e) { finished += e == jobs::job_event::finished; });
    for (auto& spec : specs) {
        auto log = output::output_log::create(ioc.get_executor());
        auto& j = table.add("example", spec, std::move(*log));
        net::co_spawn(ioc, run_and_follow(runner, j), log_exceptions{"example job"});
    }
    ioc.run();
    std::printf("all %d jobs finished\n", finished);
    return finished == 3 ? 0 : 1;
}
