#include "client/job_streams.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace corral::cli {

// (See the header.)
/// Raw pages of one stream each (`format=raw&split=true`): no JSON to build or parse, and the bytes
/// go to our stdout or stderr as the job wrote them, spliced from the connection when that is a
/// pipe (api_client::body_to). The next page is asked for as soon as this one's head is read, so
/// corrald reads it once it has written this one.
net::awaitable<void> follow_output(api_client& c, std::uint64_t id, std::uint64_t from, bool follow) {
    // Into a pipe (`corral run … | wc`), a 64 KiB pipe makes us and our reader take turns every
    // 64 KiB; grown to 1 MiB (as corrald grows a job's pipes), 256 MiB went through 7-20 % faster
    // (bench/results/workflows.md). Without the right or the quota for it, the pipe stays as it was.
    struct stat stdout_stat {};
    if (::fstat(STDOUT_FILENO, &stdout_stat) == 0 && S_ISFIFO(stdout_stat.st_mode)) {
        (void)::fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1 << 20);
    }
    auto header = [](const api_response& r, const std::string& name) {
        auto it = r.headers.find(name);
        return it == r.headers.end() ? std::string() : it->second;
    };
    auto ask = [&](std::uint64_t offset) -> net::awaitable<void> {
        auto target = fmt::format("/api/v1/jobs/{}/output?from={}&wait={}&format=raw&split=true&max={}",
                                  id,
                                  offset,
                                  follow ? 30 : 0,
                                  4 << 20);
        auto sent = co_await c.send(std::move(target));  // named first: g++ 12 and temporaries in co_await
        if (!sent) {
            throw command_error{sent.error().what()};
        }
    };
    co_await ask(from);
    for (;;) {
        auto r = co_await c.read_head();
        if (!r) {
            throw command_error{r.error().what()};
        }
        if (!r->ok()) {
            throw command_error{r->error_message(), r->status == 404 ? 1 : corral_failed};
        }
        const auto next = std::stoull(header(*r, "x-corral-next"));
        const bool end = header(*r, "x-corral-eof") == "true" || (!follow && next == from);
        const bool empty = r->body.empty() && r->body_left == 0;
        if (!end && !empty) {
            co_await ask(next);  // corrald reads it as soon as it has written this page
        }
        if (!empty) {
            auto* out = header(*r, "x-corral-stream") == "stderr" ? stderr : stdout;
            std::fwrite(r->body.data(), 1, r->body.size(), out);  // a body of unknown length comes whole
            std::fflush(out);
            if (auto written = co_await c.body_to(fileno(out)); !written) {
                throw command_error{written.error().what()};
            }
        }
        if (const auto lost = header(*r, "x-corral-lost"); !lost.empty() && lost != "0") {
            std::fprintf(stderr, "corral: %s bytes of output were dropped before this point\n", lost.c_str());
        }
        if (end) {
            co_return;
        }
        if (empty) {  // a long-poll that timed out, or a page of nothing: ask again from here
            co_await ask(next);
        }
        from = next;
    }
}

net::awaitable<void> write_input(api_client& c, const std::string& target, const std::vector<std::string>& words, bool close) {
    const std::string closing = target + "?close=true";
    if (!words.empty()) {
        std::string text = fmt::format("{}\n", fmt::join(words, " "));
        co_await call(c, "POST", close ? closing : target, text);
        co_return;
    }
    std::vector<char> buffer(64 * 1024);
    for (;;) {
        const auto n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
        if (n <= 0)
            break;
        std::string chunk(buffer.data(), static_cast<std::size_t>(n));
        co_await call(c, "POST", target, chunk);
    }
    if (close)
        co_await call(c, "POST", closing);
}

}  // namespace corral::cli
