// TLS on a TCP listener, with a certificate this test makes (openssl), checked by curl.
#include <gtest/gtest.h>

#include <filesystem>

#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"

namespace corral::test {
namespace {

TEST(Tls, ServesHttpsWithTheConfiguredCertificate) {
    auto dir = std::filesystem::temp_directory_path() / ("corral-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto cert = (dir / "cert.pem").string();
    const auto key = (dir / "key.pem").string();
    auto made = run_program({"/usr/bin/openssl",
                             "req",
                             "-x509",
                             "-newkey",
                             "rsa:2048",
                             "-nodes",
                             "-days",
                             "1",
                             "-subj",
                             "/CN=localhost",
                             "-addext",
                             "subjectAltName=IP:127.0.0.1",
                             "-keyout",
                             key,
                             "-out",
                             cert});
    ASSERT_EQ(made.status, 0) << made.err;
    daemon_process d(
        "[pod]\nstate_dir = \"@STATE@\"\n[[http]]\nlabel = \"web\"\nlisten = \"127.0.0.1:0\"\ntls_cert = \"" +
        cert + "\"\ntls_key = \"" + key + "\"\n");
    ASSERT_TRUE(d.ready()) << d.log();
    const auto url = "https://127.0.0.1:" + std::to_string(d.port());
    auto ok = run_program({"/usr/bin/curl", "-sS", "--cacert", cert, url + "/healthz"});
    EXPECT_EQ(ok.status, 0) << ok.err;
    EXPECT_NE(ok.out.find("\"status\":\"ok\""), std::string::npos) << ok.out;
    auto job = run_program(
        {"/usr/bin/curl", "-sS", "--cacert", cert, "-d", R"({"shell":"echo secure"})", url + "/api/v1/jobs"});
    EXPECT_NE(job.out.find("\"id\":1"), std::string::npos) << job.out;
    // Without trusting the certificate, curl refuses; plain HTTP gets no answer, and the daemon lives on.
    EXPECT_NE(run_program({"/usr/bin/curl", "-sS", url + "/healthz"}).status, 0);
    EXPECT_NE(
        run_program(
            {"/usr/bin/curl", "-sS", "-m", "5", "http://127.0.0.1:" + std::to_string(d.port()) + "/healthz"})
            .status,
        0);
    EXPECT_EQ(run_program({"/usr/bin/curl", "-sS", "--cacert", cert, url + "/healthz"}).status, 0);
    std::filesystem::remove_all(dir);
}

TEST(Tls, ABadCertificateStopsStartUpWithAClearError) {
    daemon_process d(
        "[pod]\nstate_dir = \"@STATE@\"\n[[http]]\nlabel = \"web\"\nlisten = \"127.0.0.1:0\"\n"
        "tls_cert = \"/nonexistent.pem\"\ntls_key = \"/nonexistent.key\"\n");
    EXPECT_FALSE(d.ready());
    EXPECT_EQ(d.wait_exit(), 1);
    EXPECT_NE(d.log().find("TLS certificate '/nonexistent.pem'"), std::string::npos) << d.log();
}

}  // namespace
}  // namespace corral::test
