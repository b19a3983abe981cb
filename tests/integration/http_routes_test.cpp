// corrald's HTTP surface as its adapters registered it on the front door: the web page's files at /,
// open and authenticated routes side by side, long-polls that end with their client, and the native
// stream's refusal of binary frames.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <boost/json.hpp>

#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"
#include "helpers/test_support.hpp"

namespace corral::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

/// A web root with a page, a script, a hidden file, a subdirectory and links in and out of it.
class web_root {
  public:
    web_root() {
        write("index.html", "<!doctype html><title>corral</title>");
        write("app.js", "console.log('corral');");
        write(".env", "SECRET=1");
        fs::create_directories(dir_.path() / "docs");
        write("docs/index.html", "<p>docs</p>");
        write("docs/guide.txt", "read me");
        fs::create_symlink(dir_.path() / "app.js", dir_.path() / "linked.js");
        fs::create_symlink("/etc/passwd", dir_.path() / "passwd");
        fs::create_directories(outside_.path());
        std::ofstream(outside_.file("secret.txt")) << "outside";
        fs::create_directory_symlink(outside_.path(), dir_.path() / "escape");
    }
    std::string path() const { return dir_.path().string(); }

  private:
    void write(const std::string& name, const std::string& text) { std::ofstream(dir_.file(name)) << text; }
    temp_dir dir_;
    temp_dir outside_;
};

class HttpRoutes : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(daemon_.ready()) << daemon_.log(); }
    void TearDown() override {
        if (HasFailure())
            std::cerr << "corrald's log:\n" << daemon_.log();
    }
    /// Anonymous: no token.
    address anyone() const { return {daemon_.port(), {}, {}}; }
    address web() const { return daemon_.web(); }
    /// The value of a sample line of /metrics ("" when absent).
    std::string metric(const std::string& sample) const {
        const auto text = http(web(), "GET", "/metrics").body;
        const auto at = text.find("\n" + sample + " ");
        if (at == std::string::npos)
            return "";
        const auto start = at + sample.size() + 2;
        return text.substr(start, text.find('\n', start) - start);
    }
    /// Waits (up to 10 s) until the sample reads `value`.
    bool metric_becomes(const std::string& sample, const std::string& value) const {
        for (int i = 0; i < 200; ++i) {
            if (metric(sample) == value)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }

    web_root files_;
    daemon_process daemon_{
        daemon_process::default_config("[api]\nweb_root = \"" + files_.path() + "\"\n")};
};

TEST_F(HttpRoutes, TheWebPageIsServedToAnyoneWithSafeHeaders) {
    auto page = http(anyone(), "GET", "/");
    EXPECT_EQ(page.status, 200u) << page.body;
    EXPECT_EQ(page.body, "<!doctype html><title>corral</title>");
    EXPECT_EQ(page.headers["content-type"], "text/html; charset=utf-8");
    EXPECT_NE(page.headers["content-security-policy"].find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_EQ(page.headers["x-content-type-options"], "nosniff");
    EXPECT_EQ(page.headers["cache-control"], "no-cache");
    ASSERT_FALSE(page.headers["etag"].empty());

    auto script = http(anyone(), "GET", "/app.js");
    EXPECT_EQ(script.status, 200u);
    EXPECT_EQ(script.body, "console.log('corral');");
    EXPECT_EQ(script.headers["content-type"], "text/javascript; charset=utf-8");
    EXPECT_EQ(http(anyone(), "GET", "/linked.js").body, script.body) << "a link inside the root is followed";
    EXPECT_EQ(http(anyone(), "GET", "/docs/").body, "<p>docs</p>");
    EXPECT_EQ(http(anyone(), "GET", "/docs/guide.txt").headers["content-type"], "text/plain; charset=utf-8");

    // Unchanged since the browser's copy: 304 without a body.
    auto again = http(anyone(), "GET", "/", {}, {{"If-None-Match", page.headers["etag"]}});
    EXPECT_EQ(again.status, 304u);
    EXPECT_EQ(again.body, "");
}

TEST_F(HttpRoutes, NothingOutsideTheWebRootOrHiddenIsServed) {
    for (const std::string target : {"/.env",
                                     "/../../../../etc/passwd",
                                     "/%2e%2e/%2e%2e/etc/passwd",
                                     "/docs/%2e%2e/%2e%2e/etc/passwd",
                                     "/passwd",
                                     "/escape/secret.txt",
                                     "/docs%2f..%2f.env",
                                     "/missing.html"}) {
        auto r = http(anyone(), "GET", target);
        EXPECT_TRUE(r.status == 404u || r.status == 400u) << target << " -> " << r.status << " " << r.body;
        EXPECT_EQ(r.body.find("root:"), std::string::npos) << target;
        EXPECT_EQ(r.body.find("SECRET"), std::string::npos) << target;
        EXPECT_EQ(r.body.find("outside"), std::string::npos) << target;
    }
    auto post = http(anyone(), "POST", "/index.html", "{}");
    EXPECT_EQ(post.status, 405u);
    EXPECT_EQ(post.headers["allow"], "GET");
}

TEST_F(HttpRoutes, EachAdapterKeepsItsOwnPathsAndAccess) {
    // Open routes answer without a token; the API's and acons's do not.
    EXPECT_EQ(http(anyone(), "GET", "/healthz").status, 200u);
    EXPECT_EQ(http(anyone(), "GET", "/api/v1/jobs").status, 401u);
    EXPECT_EQ(http(anyone(), "GET", "/metrics").status, 401u);
    EXPECT_EQ(http(anyone(), "POST", "/rpc-run", R"({"id": 1, "method": "run", "params": ["true"]})").status, 401u);
    // With one, the API is reached under the page's catch-all route, not shadowed by it.
    EXPECT_EQ(http(web(), "GET", "/api/v1/jobs").status, 200u);
    auto missing = http(web(), "GET", "/api/v1/nothing-here");
    EXPECT_EQ(missing.status, 404u);
    EXPECT_EQ(missing.json().at("error").at("code"), "not_found");
    EXPECT_EQ(http(web(), "GET", "/rpc-run").status, 405u);
    // A page on another origin is refused before any route, the page's own included.
    EXPECT_EQ(http(anyone(), "POST", "/", "x", {{"Origin", "http://evil.example"}}).status, 403u);
}

TEST_F(HttpRoutes, ALongPollWhoseClientLeftIsGivenUp) {
    auto sleeper = http(web(), "POST", "/api/v1/jobs", R"({"command": ["sleep", "30"]})");
    ASSERT_EQ(sleeper.status, 201u) << sleeper.body;
    const auto id = std::to_string(sleeper.json().at("id").as_int64());
    EXPECT_EQ(metric("corral_http_requests_total{status=\"499\"}"), "");
    for (const auto& target : {"/api/v1/jobs/" + id + "/output?from=0&wait=60",
                                     "/api/v1/jobs/" + id + "/wait?timeout=60",
                                     std::string("/api/v1/idle?wait=60")}) {
        // The request, then the client goes away without waiting for the answer.
        const auto nothing = raw_exchange(web(),
                                          "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                                              web().token + "\r\n\r\n",
                                          std::chrono::milliseconds(300));
        EXPECT_EQ(nothing, "") << target << " was answered while its wait should go on";
    }
    EXPECT_TRUE(metric_becomes("corral_http_requests_total{status=\"499\"}", "3"))
        << "the long-polls of clients that left still wait: " << metric("corral_http_requests_total{status=\"499\"}");
    http(web(), "POST", "/api/v1/jobs/" + id + "/kill");
}

TEST_F(HttpRoutes, TheNativeStreamClosesABinaryClientWith1003) {
    ws_client ws(web(), "/api/v1/stream");
    ws.send_binary(std::string("\xa1\x64type\x69subscribe", 15));  // CBOR for {"type": "subscribe"}
    EXPECT_EQ(ws.receive(), std::nullopt);
    EXPECT_EQ(ws.close_code(), 1003);
    EXPECT_NE(ws.close_reason().find("JSON text"), std::string::npos) << ws.close_reason();
}

TEST_F(HttpRoutes, CompressedCopiesGoToClientsThatTakeGzip) {
    // As the build makes them (web/CMakeLists.txt): NAME.gz beside NAME, written after it.
    const std::string gz("\x1f\x8b\x08\x00compressed", 14);
    std::ofstream(fs::path(files_.path()) / "app.js.gz", std::ios::binary) << gz;
    auto plain = http(anyone(), "GET", "/app.js");
    EXPECT_EQ(plain.body, "console.log('corral');");
    EXPECT_EQ(plain.headers.count("content-encoding"), 0u);
    EXPECT_EQ(plain.headers["vary"], "Accept-Encoding");
    for (const std::string accept : {"gzip", "deflate, gzip, br", "br;q=1.0, gzip;q=0.5", "*"}) {
        auto packed = http(anyone(), "GET", "/app.js", {}, {{"Accept-Encoding", accept}});
        EXPECT_EQ(packed.status, 200u) << accept;
        EXPECT_EQ(packed.body, gz) << accept;
        EXPECT_EQ(packed.headers["content-encoding"], "gzip") << accept;
        EXPECT_EQ(packed.headers["content-type"], "text/javascript; charset=utf-8") << accept;
        EXPECT_EQ(packed.headers["vary"], "Accept-Encoding");
        EXPECT_NE(packed.headers["etag"], plain.headers["etag"]) << "each encoding is its own version";
    }
    for (const std::string accept : {"gzip;q=0", "gzip; q=0.000", "identity", "deflate, br"}) {
        auto r = http(anyone(), "GET", "/app.js", {}, {{"Accept-Encoding", accept}});
        EXPECT_EQ(r.body, plain.body) << accept;
        EXPECT_EQ(r.headers.count("content-encoding"), 0u) << accept;
    }
    auto packed = http(anyone(), "GET", "/app.js", {}, {{"Accept-Encoding", "gzip"}});
    auto again = http(anyone(), "GET", "/app.js", {}, {{"Accept-Encoding", "gzip"}, {"If-None-Match", packed.headers["etag"]}});
    EXPECT_EQ(again.status, 304u);
    // A file without a copy is sent as it is.
    auto page = http(anyone(), "GET", "/", {}, {{"Accept-Encoding", "gzip"}});
    EXPECT_EQ(page.body, "<!doctype html><title>corral</title>");
    EXPECT_EQ(page.headers.count("content-encoding"), 0u);
}

TEST_F(HttpRoutes, MeSaysWhatTheRoleMayDo) {
    auto me = http(web(), "GET", "/api/v1/me");
    ASSERT_EQ(me.status, 200u) << me.body;
    const auto body = me.json();
    EXPECT_FALSE(body.at("user").as_string().empty());
    const auto& role = body.at("role").as_object();
    EXPECT_EQ(role.at("name"), "admin");
    EXPECT_EQ(role.at("admin"), true);
    EXPECT_EQ(role.at("kill_all"), true);
    EXPECT_EQ(role.at("commands"), true);
    EXPECT_EQ(role.at("tasks"), json::array{"*"});
    EXPECT_EQ(http(anyone(), "GET", "/api/v1/me").status, 401u);
    EXPECT_EQ(http(web(), "POST", "/api/v1/me", "{}").status, 405u);
}

TEST_F(HttpRoutes, JobsListNewestFirstPagesWithBefore) {
    auto first = http(web(), "POST", "/api/v1/jobs", R"({"command": ["true"], "timeout": "5s", "merge": true})");
    ASSERT_EQ(first.status, 201u) << first.body;
    // How a job runs is part of it, so that a client can submit it again.
    const auto j = first.json();
    EXPECT_EQ(j.at("timeout_ms"), 5000);
    EXPECT_EQ(j.at("merge"), true);
    EXPECT_EQ(j.at("pty"), false);
    EXPECT_EQ(j.at("stdin"), "none");
    EXPECT_EQ(http(web(), "POST", "/api/v1/jobs", R"({"command": ["cat"], "stdin": "pipe", "pty": true})")
                  .json()
                  .at("stdin"),
              "pipe");
    ASSERT_EQ(http(web(), "POST", "/api/v1/jobs", R"({"command": ["true"]})").status, 201u);
    auto ids = [](const json::value& page) {
        std::vector<std::int64_t> out;
        for (const auto& job : page.at("jobs").as_array())
            out.push_back(job.at("id").as_int64());
        return out;
    };
    auto newest = http(web(), "GET", "/api/v1/jobs?order=newest&limit=2").json();
    EXPECT_EQ(ids(newest), (std::vector<std::int64_t>{3, 2}));
    EXPECT_EQ(newest.at("next"), 2);
    auto older = http(web(), "GET", "/api/v1/jobs?order=newest&limit=2&before=2").json();
    EXPECT_EQ(ids(older), (std::vector<std::int64_t>{1}));
    EXPECT_TRUE(older.at("next").is_null());
    EXPECT_EQ(ids(http(web(), "GET", "/api/v1/jobs?limit=2").json()), (std::vector<std::int64_t>{1, 2}));
    for (const std::string bad : {"/api/v1/jobs?order=sideways", "/api/v1/jobs?order=newest&after=1", "/api/v1/jobs?before=2"}) {
        auto r = http(web(), "GET", bad);
        EXPECT_EQ(r.status, 400u) << bad;
        EXPECT_EQ(r.json().at("error").at("code"), "bad_query") << bad;
    }
}

TEST(HttpRoutesWithoutWebRoot, TheBuiltPageIsServedWithoutConfiguration) {
    daemon_process d(daemon_process::default_config());
    ASSERT_TRUE(d.ready()) << d.log();
    const address anyone{d.port(), {}, {}};
    auto page = http(anyone, "GET", "/");
    ASSERT_EQ(page.status, 200u) << "corrald finds the page its build assembled: " << page.body;
    EXPECT_NE(page.body.find("<title>corral</title>"), std::string::npos);
    EXPECT_EQ(http(anyone, "GET", "/js/main.js").headers["content-type"], "text/javascript; charset=utf-8");
    // xterm.js comes from the lockfile's npm package, compressed at build time.
    auto xterm = http(anyone, "GET", "/vendor/xterm.mjs", {}, {{"Accept-Encoding", "gzip"}});
    EXPECT_EQ(xterm.status, 200u);
    EXPECT_EQ(xterm.headers["content-encoding"], "gzip");
    ASSERT_GT(xterm.body.size(), 2u);
    EXPECT_EQ(xterm.body.substr(0, 2), "\x1f\x8b") << "a real gzip stream";
    EXPECT_LT(xterm.body.size(), http(anyone, "GET", "/vendor/xterm.mjs").body.size());
}

TEST(HttpRoutesWithoutWebRoot, AnEmptyWebRootServesNoPageAndTheRestIsAsBefore) {
    daemon_process d(daemon_process::default_config("[api]\nweb_root = \"\"\n"));
    ASSERT_TRUE(d.ready()) << d.log();
    EXPECT_EQ(http(d.web(), "GET", "/").status, 404u);
    EXPECT_EQ(http(d.web(), "GET", "/healthz").status, 200u);
}

TEST(HttpRoutesWithoutWebRoot, AWebRootThatIsNoDirectoryIsAConfigError) {
    daemon_process d(daemon_process::default_config("[api]\nweb_root = \"/nonexistent/web\"\n"));
    EXPECT_FALSE(d.ready());
    EXPECT_NE(d.log().find("web_root"), std::string::npos) << d.log();
}

}  // namespace
}  // namespace corral::test
