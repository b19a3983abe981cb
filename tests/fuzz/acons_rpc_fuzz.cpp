// acons's JSON-RPC dispatcher on arbitrary bodies, for a caller whose role may not run commands: every
// call is answered with a result or an error envelope, nothing but acons's methods can be reached, and
// nothing is ever run.
#include <cstddef>
#include <cstdint>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "corral/proto/acons_rpc.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace corral;
    static net::io_context io;
    static auto service = std::move(*services::job_service::create(io.get_executor(), {}));
    static proto::acons_rpc rpc(*service, {}, {});
    static const auth::identity caller{
        "fuzzer", std::make_shared<const auth::role_policy>(auth::role_policy{.name = "viewer", .tasks = {}, .commands = false})};
    auto body = fuzz::parse_json(data, size);
    if (!body || !body->is_object()) {
        return 0;
    }
    bool answered = false;
    net::co_spawn(
        io, rpc.call(body->get_object(), caller), [&](std::exception_ptr e, boost::json::object reply) {
            if (e || (!reply.contains("result") && !reply.contains("error"))) {
                __builtin_trap();  // every call gets an envelope, never an exception
            }
            answered = true;
        });
    io.restart();
    while (!answered && io.run_one() > 0) {
    }
    if (!answered || service->stats().submitted != 0) {
        __builtin_trap();  // answered at once, and nothing ran
    }
    return 0;
}
