// The job service inside a program of your own: jobs queued by priority under a concurrency limit,
// submitted as a caller with a role, and followed through a subscription that numbers every event,
// the way corrald's adapters follow them.
//
//   $ ./embed_service
//   #1   job 1 queued
//   ...
//   #9   job 3 started
//   #12  job 3 finished: failed (exited with code 3)
//   4 jobs finished, 1 failed
#include <cstdio>
#include <memory>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <corral/core/log_exceptions.hpp>
#include <corral/services/job_service.hpp>

namespace net = boost::asio;
using namespace corral;

services::submit_request command(std::vector<std::string> argv) {
    services::submit_request r;
    r.spec.process.argv = std::move(argv);
    return r;
}

net::awaitable<int> run(services::job_service& service) {
    // Who submits: the service checks what the role allows and runs the jobs as that user.
    auto role = std::make_shared<const auth::role_policy>(auth::role_policy{.name = "app", .commands = true});
    const auth::identity me{"app", role};

    std::vector<services::submit_request> requests;
    requests.push_back(command({"echo", "first"}));
    requests.push_back(command({"sleep", "0.2"}));
    requests.push_back(command({"sh", "-c", "exit 3"}));
    requests.push_back(command({"echo", "last"}));
    auto sub = service.subscribe_as(me);
    if (!sub) {
        std::fprintf(stderr, "%s\n", sub.error().what().c_str());
        co_return 1;
    }
    services::subscription::reader reader(*sub);
    auto submitted = co_await service.submit_as(me, std::move(requests));
    if (!submitted) {
        std::fprintf(stderr, "%s\n", submitted.error().what().c_str());
        co_return 1;
    }
    // Follow each job's events. They were queued before this: the kept events since 0 replay them.
    for (const auto& pin : submitted->jobs) {
        (void)service.follow_as(me, *reader, pin->get().id, false);
    }
    service.events().replay(*reader, 0);
    std::size_t finished = 0, failed = 0;
    while (finished < submitted->jobs.size()) {
        if (!reader->has_pending()) {
            co_await reader->wait();
            continue;
        }
        for (const auto& e : reader->take().events) {
            std::printf("#%-3llu job %llu %s",
                        static_cast<unsigned long long>(e->seq),
                        static_cast<unsigned long long>(e->job),
                        std::string(services::event_name(e->kind)).c_str());
            if (e->kind == jobs::job_event::finished) {
                const auto* j = service.find(e->job);
                std::printf(": %s (%s)", std::string(jobs::to_string(e->state)).c_str(), j ? j->reason.c_str() : "");
                ++finished;
                failed += e->state != jobs::job_state::succeeded;
            }
            std::printf("\n");
        }
    }
    std::printf("%zu jobs finished, %zu failed\n", finished, failed);
    co_return failed == 1 ? 0 : 1;
}

int main() {
    net::io_context ioc;
    auto service = services::job_service::create(ioc.get_executor(), {.concurrency = 2});
    if (!service) {
        std::fprintf(stderr, "%s\n", service.error().what().c_str());
        return 1;
    }
    int status = 1;
    net::co_spawn(ioc, run(**service), [&](std::exception_ptr e, int s) {
        status = e ? 1 : s;
        // Stop taking jobs and let the service wind down, so the context runs out of work.
        net::co_spawn(ioc, (*service)->drain(std::chrono::steady_clock::now()), log_exceptions{"drain"});
    });
    ioc.run();
    return status;
}
