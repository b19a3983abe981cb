#include "helpers/daemon_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace corral::test {
namespace {

const std::string corrald_path = CORRALD_PATH;

std::vector<std::string> environment_with(const std::map<std::string, std::string>& extra) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string entry(*e);
        auto name = entry.substr(0, entry.find('='));
        if (!extra.count(name)) {
            env.push_back(entry);
        }
    }
    for (const auto& [k, v] : extra) {
        env.push_back(k + "=" + v);
    }
    return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

std::string make_temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "corrald-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) {
        throw std::runtime_error("mkdtemp failed");
    }
    return pattern;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

program_result run_program(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env,
                           const std::string& input) {
    const auto dir = make_temp_dir();
    { std::ofstream(dir + "/in") << input; }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, (dir + "/in").c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, (dir + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, (dir + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    auto args = argv;
    auto envs = environment_with(env);
    auto argp = pointers(args);
    auto envp = pointers(envs);
    pid_t pid = -1;
    program_result r;
    if (posix_spawn(&pid, args[0].c_str(), &fa, nullptr, argp.data(), envp.data()) == 0) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    posix_spawn_file_actions_destroy(&fa);
    r.out = slurp(dir + "/out");
    r.err = slurp(dir + "/err");
    std::filesystem::remove_all(dir);
    return r;
}

std::string daemon_process::default_config(const std::string& extra) {
    return "[pod]\nstate_dir = \"@STATE@\"\nstop_wait = \"5s\"\n" + extra +
           "\n[[http]]\nlabel = \"web\"\nlisten = \"127.0.0.1:0\"\n"
           "[[http]]\nlabel = \"cli\"\nlisten = \"unix:@STATE@/corral.sock\"\n";
}

daemon_process::daemon_process(std::string config, std::map<std::string, std::string> env) {
    state_dir_ = make_temp_dir();
    start(std::move(config), env);
}

daemon_process::daemon_process(std::string config,
                               std::map<std::string, std::string> env,
                               std::string state_dir)
    : state_dir_(std::move(state_dir)), own_state_dir_(false) {
    start(std::move(config), env);
}

daemon_process::daemon_process(std::string config, std::vector<std::string> args) {
    state_dir_ = make_temp_dir();
    start(std::move(config), {}, std::move(args));
}

void daemon_process::start(std::string config, const std::map<std::string, std::string>& env, std::vector<std::string> extra) {
    socket_ = state_dir_ + "/corral.sock";
    auto place = [this](std::string& text) {
        for (auto at = text.find("@STATE@"); at != std::string::npos; at = text.find("@STATE@")) {
            text.replace(at, 7, state_dir_);
        }
    };
    place(config);
    for (auto& a : extra) {
        place(a);
    }
    { std::ofstream(state_dir_ + "/corral.toml") << config; }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    std::vector<std::string> args{corrald_path, "run", "-c", state_dir_ + "/corral.toml"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto envs = environment_with(env);
    auto argp = pointers(args);
    auto envp = pointers(envs);
    const int rc = posix_spawn(&pid_, corrald_path.c_str(), &fa, nullptr, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        throw std::runtime_error("cannot start corrald");
    }
    reader_ = std::thread([this, fd = fds[0]] { read_log(fd); });
    ready_ = wait_for_log("corrald is ready");
    std::smatch m;
    const auto text = log();
    static const std::regex web(R"(\(web\) started: https?://[0-9.]+:(\d+))");
    if (std::regex_search(text, m, web)) {
        port_ = static_cast<unsigned short>(std::stoi(m[1]));
    }
}

unsigned short daemon_process::port_of(const std::string& label) const {
    const std::regex started("\\(" + label + R"(\) started: [^\n]*?(https?://)?[0-9.]+:(\d+))");
    std::smatch m;
    const auto text = log();
    return std::regex_search(text, m, started) ? static_cast<unsigned short>(std::stoi(m[2])) : 0;
}

daemon_process::~daemon_process() {
    if (exit_status_ < 0 && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    if (reader_.joinable()) {
        reader_.join();
    }
    if (own_state_dir_) {
        std::error_code ec;
        std::filesystem::remove_all(state_dir_, ec);
    }
}

void daemon_process::read_log(int fd) {
    char buffer[4096];
    for (;;) {
        const auto n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) {
            break;
        }
        std::lock_guard lock(mutex_);
        log_.append(buffer, static_cast<std::size_t>(n));
        changed_.notify_all();
    }
    ::close(fd);
    std::lock_guard lock(mutex_);
    log_closed_ = true;
    changed_.notify_all();
}

std::string daemon_process::admin_token() const {
    auto token = slurp(state_dir_ + "/admin.token");
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) {
        token.pop_back();
    }
    return token;
}

std::string daemon_process::log() const {
    std::lock_guard lock(mutex_);
    return log_;
}

bool daemon_process::wait_for_log(const std::string& text, std::chrono::milliseconds limit) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] {
        return log_.find(text) != std::string::npos || log_closed_;
    }) && log_.find(text) != std::string::npos;
}

void daemon_process::signal(int sig) const {
    ::kill(pid_, sig);
}

int daemon_process::wait_exit(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (exit_status_ < 0 && std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return exit_status_;
}

}  // namespace corral::test
