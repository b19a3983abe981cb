#pragma once
// A real corrald for integration tests: started with a config in a temporary state directory, read
// until it says it is ready, and stopped with a signal. Tests talk to it over real sockets.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "helpers/http_client.hpp"

namespace corral::test {

/// What a program run to its end printed and how it ended.
struct program_result {
    int status = -1;  ///< exit code, or 128 + signal
    std::string out;
    std::string err;
};

/// Runs `argv` with `env` added to our environment and `input` on its stdin; waits for it.
program_result run_program(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env = {},
                           const std::string& input = {});

class daemon_process {
  public:
    /// Starts corrald with `config` (TOML; `@STATE@` is replaced by the state directory) and waits
    /// until it is ready. The web listener should be "127.0.0.1:0" so each test gets a free port.
    explicit daemon_process(std::string config, std::map<std::string, std::string> env = {});
    /// The same in an existing state directory that outlives it: a restart of the daemon that ran
    /// there before. The web listener may not keep its port; port() says the new one.
    daemon_process(std::string config, std::map<std::string, std::string> env, std::string state_dir);
    /// With more arguments after `run -c FILE` (command-line components; `@STATE@` replaced as well).
    daemon_process(std::string config, std::vector<std::string> args);
    ~daemon_process();
    daemon_process(const daemon_process&) = delete;
    daemon_process& operator=(const daemon_process&) = delete;

    /// The default test config: one TCP listener on a free port and the CLI socket.
    static std::string default_config(const std::string& extra = {});

    bool ready() const { return ready_; }
    unsigned short port() const { return port_; }
    /// The TCP port of the component labelled `label` (from its "started" line); 0 when none.
    unsigned short port_of(const std::string& label) const;
    /// The admin token corrald made in its state directory.
    std::string admin_token() const;
    /// The TCP listener, with the admin token.
    address web() const { return {port_, {}, admin_token()}; }
    /// The CLI's Unix socket (no token: the peer's uid is who we are).
    address local() const { return {0, socket_, {}}; }
    const std::string& socket_path() const { return socket_; }
    const std::string& state_dir() const { return state_dir_; }
    pid_t pid() const { return pid_; }
    /// Everything corrald logged so far.
    std::string log() const;
    /// Waits until the log contains `text`.
    bool wait_for_log(const std::string& text,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) const;

    void signal(int sig) const;
    /// Waits for corrald to exit; returns its exit status (128 + signal when killed).
    int wait_exit(std::chrono::milliseconds limit = std::chrono::seconds(30));

  private:
    void read_log(int fd);
    void start(std::string config, const std::map<std::string, std::string>& env, std::vector<std::string> args = {});

    std::string state_dir_;
    bool own_state_dir_ = true;
    std::string socket_;
    pid_t pid_ = -1;
    unsigned short port_ = 0;
    bool ready_ = false;
    int exit_status_ = -1;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::string log_;
    bool log_closed_ = false;
    std::thread reader_;
};

}  // namespace corral::test
