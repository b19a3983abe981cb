// watchers_bench: what live watching costs, measured against a running corrald on loopback
// (bench/watchers_bench.sh starts one and prints the table). Two measurements, rounds interleaved
// with their baselines so that ratios, not absolute times, are read:
//
//   watchers_bench ttfb PORT ROUNDS
//     submit `/bin/echo x` over HTTP, subscribe on an already open WebSocket, time to the first
//     output message; against posix_spawn of the same argv and the first byte read from its pipe.
//   watchers_bench fanout PORT FAKE_CHILD BYTES WATCHERS ROUNDS
//     a job writes BYTES as fast as corrald reads them; its own throughput (timed inside the job)
//     with WATCHERS WebSocket watchers following it from byte 0, against the same job unwatched.
//     Every watcher must receive every byte, in order, with no loss and no disconnect.
//   watchers_bench idle PORT CORRALD_PID FAKE_CHILD BYTES POLLS ROUNDS
//     the same job with one watcher, with POLLS idle long-polls (`/jobs/N/wait`) held open on another
//     job, against none: idle waiters must cost a busy job nothing (its throughput, and corrald's CPU).
//   watchers_bench subs PORT CORRALD_PID COUNT
//     COUNT WebSocket clients each subscribe and leave; their subscriptions stay (the linger time).
//     What corrald's RSS grew by, per subscription.
//
// Output: one `key value` line per figure (the script turns them into a Markdown table).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

extern char** environ;

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t0) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

/// corrald's admin token (watchers_bench.sh passes it): every TCP request shows one.
std::string token() {
    const char* t = std::getenv("CORRAL_TOKEN");
    return t ? t : "";
}

/// One keep-alive HTTP connection to corrald.
class api {
  public:
    api(asio::io_context& io, unsigned short port) : socket_(io) {
        socket_.connect({asio::ip::make_address("127.0.0.1"), port});
        socket_.set_option(tcp::no_delay(true));
    }
    json::value call(beast::http::verb method, const std::string& target, const std::string& body = {}) {
        return json::parse(text(method, target, body));
    }
    std::string text(beast::http::verb method, const std::string& target, const std::string& body = {}) {
        beast::http::request<beast::http::string_body> req{method, target, 11};
        req.set(beast::http::field::host, "localhost");
        req.set(beast::http::field::authorization, "Bearer " + token());
        if (!body.empty()) {
            req.set(beast::http::field::content_type, "application/json");
        }
        req.keep_alive(true);
        req.body() = body;
        req.prepare_payload();
        beast::http::write(socket_, req);
        beast::http::response<beast::http::string_body> res;
        beast::http::read(socket_, buffer_, res);
        if (res.result_int() >= 300) {
            throw std::runtime_error(target + ": HTTP " + std::to_string(res.result_int()) + " " +
                                     res.body());
        }
        return res.body();
    }

  private:
    tcp::socket socket_;
    beast::flat_buffer buffer_;
};

// ---------------------------------------------------------------------------------------- ttfb

double bare_ttfb() {
    int fds[2];
    if (::pipe(fds) != 0) {
        throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    char* argv[] = {const_cast<char*>("/bin/echo"), const_cast<char*>("x"), nullptr};
    const auto t0 = clock_type::now();
    pid_t pid = 0;
    if (posix_spawn(&pid, argv[0], &fa, nullptr, argv, environ) != 0) {
        throw std::runtime_error("posix_spawn failed");
    }
    ::close(fds[1]);
    char c;
    if (::read(fds[0], &c, 1) != 1) {
        throw std::runtime_error("no output from echo");
    }
    const double ms = ms_since(t0);
    ::close(fds[0]);
    ::waitpid(pid, nullptr, 0);
    posix_spawn_file_actions_destroy(&fa);
    return ms;
}

double corral_ttfb(api& http, beast::websocket::stream<tcp::socket>& ws) {
    const auto t0 = clock_type::now();
    auto job = http.call(beast::http::verb::post, "/api/v1/jobs", R"({"command": ["/bin/echo", "x"]})");
    const auto id = job.at("id").to_number<std::uint64_t>();
    ws.write(asio::buffer(json::serialize(json::object{{"type", "subscribe"}, {"job", id}, {"from", 0}})));
    beast::flat_buffer buffer;
    for (;;) {
        buffer.clear();
        ws.read(buffer);
        auto m = json::parse(beast::buffers_to_string(buffer.data())).as_object();
        if (m.at("type") == "output" && m.at("job").to_number<std::uint64_t>() == id) {
            return ms_since(t0);
        }
    }
}

int ttfb(unsigned short port, int rounds) {
    asio::io_context io;
    api http(io, port);
    beast::websocket::stream<tcp::socket> ws(io);
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    ws.next_layer().set_option(tcp::no_delay(true));
    ws.handshake("localhost", "/api/v1/stream?token=" + token());
    std::vector<double> bare, ours;
    for (int r = 0; r < rounds; ++r) {
        bare.push_back(bare_ttfb());
        ours.push_back(corral_ttfb(http, ws));
    }
    std::printf("ttfb.bare_ms %.3f\nttfb.corral_ms %.3f\nttfb.ratio %.2f\n",
                median(bare),
                median(ours),
                median(ours) / median(bare));
    return 0;
}

// -------------------------------------------------------------------------------------- fanout

/// Decoded length of a JSON string body (between the quotes), or npos past its end.
std::size_t decoded_length(std::string_view s, std::size_t& end) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '"') {
            end = i;
            return n;
        }
        if (s[i] == '\\') {
            i += s[i + 1] == 'u' ? 5 : 1;  // corral's output is ASCII here: \uXXXX is one byte
        }
        ++n;
    }
    throw std::runtime_error("unterminated string");
}

struct watcher_result {
    std::uint64_t bytes = 0;
    bool eof = false;
    std::string problem;
};

// Counts without parsing every output message as JSON: a watcher process on the same two cores
// must not cost more than the daemon it measures. Big messages are `{"offset":N,...,"data":"…",
// "type":"output","job":J}` (docs/protocol.md); everything else is parsed properly.
asio::awaitable<void> watch(unsigned short port, std::uint64_t job, watcher_result& result) {
    beast::websocket::stream<tcp::socket> ws(co_await asio::this_coro::executor);
    co_await ws.next_layer().async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
    ws.read_message_max(64 << 20);
    co_await ws.async_handshake("localhost",
                                "/api/v1/stream?job=" + std::to_string(job) + "&from=0&token=" + token(),
                                asio::use_awaitable);
    beast::flat_buffer buffer;
    for (;;) {
        buffer.clear();
        boost::system::error_code ec;
        co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            result.problem = "closed: " + ec.message() + " " + std::string(ws.reason().reason.c_str());
            co_return;
        }
        const auto* p = static_cast<const char*>(buffer.data().data());
        std::string_view m(p, buffer.size());
        constexpr std::string_view head = R"({"offset":)";
        if (m.size() > 4096 && m.starts_with(head)) {
            const auto offset = std::strtoull(m.data() + head.size(), nullptr, 10);
            const auto data = m.find(R"("data":")");
            std::size_t end = 0;
            const auto n = decoded_length(m.substr(data + 8), end);
            if (offset != result.bytes || m.find(R"("type":"output")", data + 8 + end) == m.npos) {
                result.problem = "out of order at " + std::to_string(offset);
                co_return;
            }
            result.bytes += n;
            continue;
        }
        auto v = json::parse(m).as_object();
        const auto type = v.at("type").as_string();
        if (type == "output") {
            if (v.at("offset").to_number<std::uint64_t>() != result.bytes) {
                result.problem = "out of order";
                co_return;
            }
            result.bytes += v.at("data").as_string().size();
        } else if (type == "lost" || type == "error") {
            result.problem = json::serialize(v);
            co_return;
        } else if (type == "eof") {
            result.eof = v.at("offset").to_number<std::uint64_t>() == result.bytes;
            co_return;
        }
    }
}

/// Runs the timed job once with `watchers` followers; its throughput in MB/s (timed by the job).
double fanout_round(asio::io_context& io,
                    unsigned short port,
                    const std::string& fake_child,
                    std::uint64_t bytes,
                    int watchers,
                    double& last_watcher_ms) {
    api http(io, port);
    const std::string clock_file = "/tmp/corral-watchers-bench-" + std::to_string(::getpid());
    std::remove(clock_file.c_str());
    // The pause lets the watchers connect before the first byte; they start at byte 0 regardless.
    json::array command{
        fake_child, "sleep", "300", "clock", clock_file, "spew", std::to_string(bytes), "clock", clock_file};
    auto job = http.call(
        beast::http::verb::post, "/api/v1/jobs", json::serialize(json::object{{"command", command}}));
    const auto id = job.at("id").to_number<std::uint64_t>();
    std::vector<watcher_result> results(static_cast<std::size_t>(watchers));
    const auto t0 = clock_type::now();
    for (auto& r : results) {
        asio::co_spawn(io, watch(port, id, r), [](std::exception_ptr e) {
            if (e) {
                std::rethrow_exception(e);
            }
        });
    }
    io.run();
    io.restart();
    last_watcher_ms = ms_since(t0);
    auto done = http.call(beast::http::verb::get, "/api/v1/jobs/" + std::to_string(id) + "/wait?timeout=300");
    if (done.at("state") != "succeeded") {
        throw std::runtime_error("the job did not succeed: " + json::serialize(done));
    }
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (!results[i].problem.empty() || !results[i].eof || results[i].bytes != bytes) {
            throw std::runtime_error("watcher " + std::to_string(i) + " got " +
                                     std::to_string(results[i].bytes) + " of " + std::to_string(bytes) +
                                     " bytes: " + results[i].problem);
        }
    }
    std::ifstream in(clock_file);
    long long start = 0, end = 0;
    in >> start >> end;
    std::remove(clock_file.c_str());
    if (end <= start) {
        throw std::runtime_error("the job's clock file is incomplete");
    }
    return static_cast<double>(bytes) / (static_cast<double>(end - start) / 1e9) / 1e6;
}

int fanout(
    unsigned short port, const std::string& fake_child, std::uint64_t bytes, int watchers, int rounds) {
    asio::io_context io;
    std::vector<double> alone, watched, paired, delivery;
    for (int r = 0; r < rounds; ++r) {
        double ignored = 0, last = 0;
        alone.push_back(fanout_round(io, port, fake_child, bytes, 0, ignored));
        watched.push_back(fanout_round(io, port, fake_child, bytes, watchers, last));
        paired.push_back(watched.back() / alone.back());
        delivery.push_back(static_cast<double>(bytes) * watchers / (last / 1e3) / 1e6);
        std::printf("fanout.round%d %.1f %.1f\n", r, alone.back(), watched.back());
    }
    std::printf(
        "fanout.alone_mbs %.1f\nfanout.watched_mbs %.1f\nfanout.ratio %.2f\nfanout.paired_ratio %.2f\n"
        "fanout.delivered_mbs %.1f\n",
        median(alone),
        median(watched),
        median(watched) / median(alone),
        median(paired),  // each round against its own baseline: steadier when the machine's speed shifts
        median(delivery));
    return 0;
}

// ---------------------------------------------------------------------------------------- idle

/// Submits a job that sleeps for an hour (killed at the end of the measurement); returns its id.
std::uint64_t submit_sleeper(api& http) {
    auto sleeper = http.call(beast::http::verb::post,
                             "/api/v1/jobs",
                             json::serialize(json::object{{"command", json::array{"/bin/sleep", "3600"}}}));
    return sleeper.at("id").to_number<std::uint64_t>();
}

/// POLLS long-polls (`GET /jobs/ID/wait`) on job `id`, each on a connection of its own, held open
/// unanswered until the object goes.
class idle_polls {
  public:
    idle_polls(asio::io_context& io, unsigned short port, std::uint64_t id, int polls) {
        const std::string req = "GET /api/v1/jobs/" + std::to_string(id) +
                                "/wait?timeout=300 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " +
                                token() + "\r\n\r\n";
        for (int i = 0; i < polls; ++i) {
            sockets_.emplace_back(io);
            sockets_.back().connect({asio::ip::make_address("127.0.0.1"), port});
            asio::write(sockets_.back(), asio::buffer(req));
        }
        // Each must be waiting, not answered: an answer would mean the poll is not idle.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        for (auto& s : sockets_) {
            if (s.available() != 0) {
                throw std::runtime_error("a long-poll was answered: its job is not waiting");
            }
        }
    }

  private:
    std::vector<tcp::socket> sockets_;
};

/// CPU time corrald has used so far, in ms (/proc/PID/stat: utime + stime).
double cpu_ms(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string skip;
    for (int i = 3; i < 14; ++i) {
        fields >> skip;
    }
    double utime = 0, stime = 0;
    fields >> utime >> stime;
    return (utime + stime) * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

int idle(unsigned short port, int pid, const std::string& fake_child, std::uint64_t bytes, int polls, int rounds) {
    asio::io_context io;
    api http(io, port);
    // The long-polls wait on a job that sleeps in the other slot for the whole run (concurrency 2).
    const auto sleeper_id = submit_sleeper(http);
    // The job's own throughput, and what corrald's CPU spent on the round: the steadier figure on a
    // shared machine, and the one idle waiters would show in first.
    std::vector<double> quiet, polled, paired, quiet_cpu, polled_cpu, paired_cpu;
    for (int r = 0; r < rounds; ++r) {
        double ignored = 0;
        auto cpu0 = cpu_ms(pid);
        quiet.push_back(fanout_round(io, port, fake_child, bytes, 1, ignored));
        quiet_cpu.push_back(cpu_ms(pid) - cpu0);
        {
            idle_polls held(io, port, sleeper_id, polls);
            cpu0 = cpu_ms(pid);
            polled.push_back(fanout_round(io, port, fake_child, bytes, 1, ignored));
            polled_cpu.push_back(cpu_ms(pid) - cpu0);
        }
        paired.push_back(polled.back() / quiet.back());
        paired_cpu.push_back(polled_cpu.back() / quiet_cpu.back());
        std::printf("idle.round%d %.1f %.1f MB/s, %.0f %.0f ms CPU\n",
                    r, quiet.back(), polled.back(), quiet_cpu.back(), polled_cpu.back());
    }
    api(io, port).call(beast::http::verb::post, "/api/v1/jobs/" + std::to_string(sleeper_id) + "/kill", "{}");
    std::printf("idle.quiet_mbs %.1f\nidle.polled_mbs %.1f\nidle.paired_ratio %.3f\n"
                "idle.quiet_cpu_ms %.0f\nidle.polled_cpu_ms %.0f\nidle.paired_cpu_ratio %.3f\n",
                median(quiet),
                median(polled),
                median(paired),
                median(quiet_cpu),
                median(polled_cpu),
                median(paired_cpu));
    return 0;
}

// ---------------------------------------------------------------------------------------- subs

/// corrald's resident set in KiB (/proc/PID/status).
long rss_kib(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    throw std::runtime_error("no VmRSS for pid " + std::to_string(pid));
}

/// Leaves COUNT subscriptions behind (run it on a fresh corrald: memory freed by earlier work would
/// hide what they take): each WebSocket follows a sleeping job's events, then goes,
/// and its subscription stays for api.subscription_linger. What corrald's RSS grew by, per one.
int subs(unsigned short port, int pid, int count) {
    asio::io_context io;
    api http(io, port);
    const auto id = submit_sleeper(http);
    auto one = [&] {
        beast::websocket::stream<tcp::socket> ws(io);
        ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
        ws.set_option(beast::websocket::stream_base::decorator([](beast::websocket::request_type& req) {
            req.set(beast::http::field::authorization, "Bearer " + token());
        }));
        ws.handshake("localhost", "/api/v1/stream");
        ws.write(asio::buffer(R"({"type": "subscribe", "output": false, "job": )" + std::to_string(id) + "}"));
        beast::flat_buffer b;
        ws.read(b);  // subscribed
        ws.close(beast::websocket::close_code::normal);
        for (;;) {  // until the server's close
            beast::error_code ec;
            b.clear();
            ws.read(b, ec);
            if (ec) {
                break;
            }
        }
    };
    for (int i = 0; i < 200; ++i) {  // warm up: connection buffers, allocator arenas
        one();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const long before = rss_kib(pid);
    for (int i = 0; i < count; ++i) {
        one();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const long after = rss_kib(pid);
    // They must all still be there (none expired, none refused), or the figure measures nothing.
    const auto metrics = http.text(beast::http::verb::get, "/metrics");
    const auto at = metrics.find("\ncorral_subscriptions ");
    if (at == std::string::npos || std::stol(metrics.substr(at + 22)) < count + 200) {
        throw std::runtime_error("corrald does not hold the subscriptions made: " +
                                 metrics.substr(at == std::string::npos ? 0 : at, 60));
    }
    http.call(beast::http::verb::post, "/api/v1/jobs/" + std::to_string(id) + "/kill", "{}");
    std::printf("subs.count %d\nsubs.rss_before_kib %ld\nsubs.rss_after_kib %ld\nsubs.bytes_each %.0f\n",
                count,
                before,
                after,
                static_cast<double>(after - before) * 1024.0 / count);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.size() == 3 && args[0] == "ttfb") {
            return ttfb(static_cast<unsigned short>(std::stoi(args[1])), std::stoi(args[2]));
        }
        if (args.size() == 4 && args[0] == "subs") {
            return subs(static_cast<unsigned short>(std::stoi(args[1])), std::stoi(args[2]), std::stoi(args[3]));
        }
        if (args.size() == 7 && args[0] == "idle") {
            return idle(static_cast<unsigned short>(std::stoi(args[1])),
                        std::stoi(args[2]),
                        args[3],
                        std::stoull(args[4]),
                        std::stoi(args[5]),
                        std::stoi(args[6]));
        }
        if (args.size() == 6 && args[0] == "fanout") {
            return fanout(static_cast<unsigned short>(std::stoi(args[1])),
                          args[2],
                          std::stoull(args[3]),
                          std::stoi(args[4]),
                          std::stoi(args[5]));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "watchers_bench: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr,
                 "usage: watchers_bench ttfb PORT ROUNDS\n"
                 "       watchers_bench fanout PORT FAKE_CHILD BYTES WATCHERS ROUNDS\n"
                 "       watchers_bench idle PORT CORRALD_PID FAKE_CHILD BYTES POLLS ROUNDS\n"
                 "       watchers_bench subs PORT CORRALD_PID COUNT\n");
    return 2;
}
