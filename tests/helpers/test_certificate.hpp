#pragma once
// A self-signed certificate made by openssl for a test, in a directory of its own.

#include <string>

#include "helpers/daemon_process.hpp"
#include "helpers/test_support.hpp"

namespace corral::test {

/// A self-signed certificate for `subject_alt_name`, made by openssl in a directory of its own.
class certificate {
  public:
    explicit certificate(const std::string& subject_alt_name) {
        made_ = run_program({"/usr/bin/openssl",
                             "req",
                             "-x509",
                             "-newkey",
                             "rsa:2048",
                             "-nodes",
                             "-days",
                             "1",
                             "-subj",
                             "/CN=corral test",
                             "-addext",
                             "subjectAltName=" + subject_alt_name,
                             "-keyout",
                             key(),
                             "-out",
                             cert()});
    }
    const program_result& made() const { return made_; }
    std::string cert() const { return dir_.file("cert.pem"); }
    std::string key() const { return dir_.file("key.pem"); }
    /// A corrald config with one TLS listener using this certificate.
    std::string daemon_config() const {
        return "[pod]\nstate_dir = \"@STATE@\"\n[[http]]\nlabel = \"web\"\nlisten = \"127.0.0.1:0\"\n"
               "tls_cert = \"" +
               cert() + "\"\ntls_key = \"" + key() + "\"\n";
    }

  private:
    temp_dir dir_;
    program_result made_;
};

}  // namespace corral::test
