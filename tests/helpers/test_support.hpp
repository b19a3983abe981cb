#pragma once
// Shared test helpers: run a coroutine to completion, find the fake child, check process liveness.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "corral/core/asio.hpp"

/// For the cgroup halves of the process tests: without a delegated cgroup v2 they are skipped, and
/// say so loudly; with CORRAL_REQUIRE_CGROUP=1 (scripts/test.sh sets it on hosts that have cgroup v2,
/// as CI's do) a missing cgroup fails the test instead, so CI cannot go green without running them.
#define CORRAL_SKIP_WITHOUT_CGROUP(why)                                                                     \
    do {                                                                                                    \
        const std::string corral_why_ = (why);                                                              \
        if (::corral::test::cgroup_required()) {                                                            \
            FAIL() << "cgroup v2 is required here (CORRAL_REQUIRE_CGROUP=1) but unusable: " << corral_why_; \
        }                                                                                                   \
        std::fprintf(stderr, "\n*** SKIPPED, cgroup v2 unusable here: %s\n", corral_why_.c_str());          \
        GTEST_SKIP() << "cgroup v2 unusable here: " << corral_why_;                                         \
    } while (false)

namespace corral::test {

inline bool cgroup_required() {
    const char* v = std::getenv("CORRAL_REQUIRE_CGROUP");
    return v && std::string_view(v) == "1";
}

/// Path of the fake child binary (tests/helpers/fake_child.cpp), injected by CMake.
inline const std::string fake_child = FAKE_CHILD_PATH;

/// Runs `a` on `ioc` until it finishes and returns its value, rethrowing its exception. GoogleTest's
/// ASSERT_* cannot be used inside coroutines, so tests assert on what comes out (aesthetics.md §9.9).
template <class T>
T run_coro(net::io_context& ioc, net::awaitable<T> a, std::chrono::seconds limit = std::chrono::seconds(60)) {
    std::optional<T> value;
    std::exception_ptr error;
    bool done = false;
    net::co_spawn(ioc, std::move(a), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e) {
            value.emplace(std::move(v));
        }
        done = true;
    });
    ioc.restart();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) {
        ioc.run_one_for(std::chrono::milliseconds(100));
    }
    if (!done) {
        throw std::runtime_error("coroutine did not finish in time");
    }
    if (error) {
        std::rethrow_exception(error);
    }
    return std::move(*value);
}

inline void run_coro(net::io_context& ioc,
                     net::awaitable<void> a,
                     std::chrono::seconds limit = std::chrono::seconds(60)) {
    auto wrapped = [](net::awaitable<void> inner) -> net::awaitable<bool> {
        co_await std::move(inner);
        co_return true;
    };
    run_coro(ioc, wrapped(std::move(a)), limit);
}

/// True when the process exists and is not a zombie.
inline bool alive(pid_t pid) {
    if (::kill(pid, 0) != 0) {
        return false;
    }
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

/// Waits (by polling, up to `limit`) until `pid` is no longer alive: for processes whose death we
/// cannot await directly (orphans reaped by init).
inline bool gone_within(pid_t pid, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (alive(pid)) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        ::usleep(2000);
    }
    return true;
}

inline std::vector<pid_t> read_pids(const std::string& path) {
    std::vector<pid_t> pids;
    std::ifstream in(path);
    for (pid_t p; in >> p;) {
        pids.push_back(p);
    }
    return pids;
}

/// Polls until the file holds at least `count` pids (the fake child writes them as it forks).
inline std::vector<pid_t> wait_for_pids(const std::string& path,
                                        std::size_t count,
                                        std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    auto pids = read_pids(path);
    while (pids.size() < count && std::chrono::steady_clock::now() < deadline) {
        ::usleep(2000);
        pids = read_pids(path);
    }
    return pids;
}

/// A temporary directory removed with everything in it.
class temp_dir {
  public:
    temp_dir() {
        std::string templ = (std::filesystem::temp_directory_path() / "corral-test-XXXXXX").string();
        if (::mkdtemp(templ.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = templ;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

}  // namespace corral::test
