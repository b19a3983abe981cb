#include "corral/runner/runner.hpp"

#include <exception>

#include <boost/asio/co_spawn.hpp>

namespace corral::runner {
namespace {

std::unique_ptr<proc::launcher> make_launcher(net::io_context& context, proc::launcher_options options) {
    return std::move(proc::launcher::create(context.get_executor(), options).value());
}

template <class T>
T value_or_throw(result_info<T> r) {
    return std::move(r).value();  // throws system_error with the code and the message
}

}  // namespace

runner::runner(proc::launcher_options options)
    : launcher_(make_launcher(context_, options)), registry_(*launcher_) {}

runner::~runner() {
    try {
        terminate_all();
    } catch (const std::exception&) {
        // ~registry kills what is left
    }
}

template <class T>
T runner::run(net::awaitable<T> op) {
    std::optional<T> result;
    std::exception_ptr failure;
    net::co_spawn(context_, std::move(op), [&](std::exception_ptr e, T value) {
        failure = e;
        if (!e) {
            result.emplace(std::move(value));
        }
    });
    context_.restart();
    context_.run();  // nothing else lives on this context: it returns once the call is done
    if (failure) {
        std::rethrow_exception(failure);
    }
    return std::move(*result);
}

void runner::add(const std::string& name, std::string_view command, app_options options) {
    registry_.add(name, command, std::move(options)).value();
}

void runner::update_config(std::map<std::string, app_config> config) {
    registry_.update_config(std::move(config)).value();
}

std::shared_ptr<channel> runner::start(const std::string& app, start_request request) {
    return value_or_throw(run(registry_.start(app, std::move(request))));
}

std::shared_ptr<channel> runner::ensure_running(const std::string& app, start_request request) {
    return value_or_throw(run(registry_.ensure_running(app, std::move(request))));
}

proc::exit_status runner::terminate(const std::string& alias) {
    return value_or_throw(run(registry_.terminate(alias)));
}

void runner::terminate_all() {
    run([](registry& r) -> net::awaitable<bool> {
        co_await r.terminate_all();
        co_return true;
    }(registry_));
}

}  // namespace corral::runner
