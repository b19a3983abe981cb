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

TEST(HttpRoutesWithoutWebRoot, NoPageIsServedAndTheRestIsAsBefore) {
    daemon_process d(daemon_process::default_config());
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
