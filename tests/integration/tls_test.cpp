// TLS on a TCP listener, with certificates this test makes (openssl), checked by curl and the CLI.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"
#include "helpers/test_certificate.hpp"
#include "helpers/test_support.hpp"

namespace corral::test {
namespace {

TEST(Tls, ServesHttpsWithTheConfiguredCertificate) {
    certificate c("IP:127.0.0.1");
    ASSERT_EQ(c.made().status, 0) << c.made().err;
    const auto cert = c.cert();
    daemon_process d(c.daemon_config());
    ASSERT_TRUE(d.ready()) << d.log();
    const auto url = "https://127.0.0.1:" + std::to_string(d.port());
    auto ok = run_program({"/usr/bin/curl", "-sS", "--cacert", cert, url + "/healthz"});
    EXPECT_EQ(ok.status, 0) << ok.err;
    EXPECT_NE(ok.out.find("\"status\":\"ok\""), std::string::npos) << ok.out;
    auto job = run_program({"/usr/bin/curl",
                            "-sS",
                            "--cacert",
                            cert,
                            "-H",
                            "Authorization: Bearer " + d.admin_token(),
                            "-H",
                            "Content-Type: application/json",
                            "-d",
                            R"({"shell":"echo secure"})",
                            url + "/api/v1/jobs"});
    EXPECT_NE(job.out.find("\"id\":1"), std::string::npos) << job.out;
    // Without trusting the certificate, curl refuses; plain HTTP gets no answer, and the daemon lives on.
    EXPECT_NE(run_program({"/usr/bin/curl", "-sS", url + "/healthz"}).status, 0);
    EXPECT_NE(
        run_program(
            {"/usr/bin/curl", "-sS", "-m", "5", "http://127.0.0.1:" + std::to_string(d.port()) + "/healthz"})
            .status,
        0);
    EXPECT_EQ(run_program({"/usr/bin/curl", "-sS", "--cacert", cert, url + "/healthz"}).status, 0);
}

TEST(Tls, TheCliSpeaksHttpsAndChecksTheCertificateAndTheName) {
    const std::string cli = CORRAL_CLI_PATH;
    certificate c("IP:127.0.0.1,DNS:localhost");
    ASSERT_EQ(c.made().status, 0) << c.made().err;
    daemon_process d(c.daemon_config());
    ASSERT_TRUE(d.ready()) << d.log();
    const auto port = std::to_string(d.port());
    // Trusted by --cacert: a whole `run` (submit, follow the output, the exit status) over TLS.
    const std::map<std::string, std::string> token{{"CORRAL_TOKEN", d.admin_token()}};
    auto run = run_program({cli,
                            "run",
                            "--url",
                            "https://127.0.0.1:" + port,
                            "--cacert",
                            c.cert(),
                            "-c",
                            "echo over-tls; exit 3"},
                           token);
    EXPECT_EQ(run.status, 3) << run.err;
    EXPECT_EQ(run.out, "over-tls\n");
    // By name (SNI and the name check), with the certificate from $CORRAL_CACERT.
    auto by_name = run_program({cli, "show", "1", "--field", "state", "--url", "https://localhost:" + port},
                               {{"CORRAL_CACERT", c.cert()}, {"CORRAL_TOKEN", d.admin_token()}});
    EXPECT_EQ(by_name.out, "failed\n") << by_name.err;
    // Output larger than a page, read again once the job has ended and all of it is in its file:
    // under TLS corrald reads the file and writes it (plain connections send it with sendfile).
    temp_dir dir;
    std::string text;
    for (int i = 0; text.size() < (3u << 20); ++i) {
        text += std::to_string(i * 7919) + std::string(200, static_cast<char>('A' + i % 26)) + "\n";
    }
    std::ofstream(dir.file("big")) << text;  // written and closed at the end of this line
    const std::vector<std::string> over_tls{"--url", "https://127.0.0.1:" + port, "--cacert", c.cert()};
    auto big = run_program(
        {cli, "run", over_tls[0], over_tls[1], over_tls[2], over_tls[3], "--", "cat", dir.file("big")},
        token);
    EXPECT_EQ(big.status, 0) << big.err;
    EXPECT_TRUE(big.out == text) << "the output came back changed (" << big.out.size() << " bytes)";
    auto again = run_program({cli, "tail", "2", over_tls[0], over_tls[1], over_tls[2], over_tls[3]}, token);
    EXPECT_EQ(again.status, 0) << again.err;
    EXPECT_TRUE(again.out == text) << "the output came back changed (" << again.out.size() << " bytes)";
    // Not trusted: refused, with the way out in the message.
    auto untrusted = run_program({cli, "ls", "--url", "https://127.0.0.1:" + port});
    EXPECT_EQ(untrusted.status, 125);
    EXPECT_NE(untrusted.err.find("certificate verify failed"), std::string::npos) << untrusted.err;
    EXPECT_NE(untrusted.err.find("--cacert"), std::string::npos) << untrusted.err;
    // A CA file that does not hold corrald's certificate (it is for another name): refused too.
    certificate other("DNS:elsewhere.example");
    ASSERT_EQ(other.made().status, 0) << other.made().err;
    auto wrong_name =
        run_program({cli, "ls", "--url", "https://127.0.0.1:" + port, "--cacert", other.cert()});
    EXPECT_EQ(wrong_name.status, 125);
    EXPECT_NE(wrong_name.err.find("TLS with corrald"), std::string::npos) << wrong_name.err;
    auto missing =
        run_program({cli, "ls", "--url", "https://127.0.0.1:" + port, "--cacert", "/nonexistent.pem"});
    EXPECT_NE(missing.err.find("--cacert: cannot read certificates from '/nonexistent.pem'"),
              std::string::npos)
        << missing.err;
    auto scheme = run_program({cli, "ls", "--url", "ftp://127.0.0.1:" + port});
    EXPECT_NE(scheme.err.find("use an http:// or https:// URL"), std::string::npos) << scheme.err;
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
