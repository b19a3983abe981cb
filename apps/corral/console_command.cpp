// `corral console`: connects to a [[console]] of corrald (its Unix socket by default, or HOST:PORT with
// a token), says it edits lines (the console then marks its prompts), and reads each command with
// libedit: editing, history kept across sessions, Ctrl-D to leave. Without a terminal it sends
// stdin's lines and prints the answers, for scripts.
#include "console_command.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include <editline/readline.h>
#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "corral/console/interpreter.hpp"
#include "corral/core/state_dir.hpp"

namespace corral::cli {
namespace {

namespace po = boost::program_options;

struct failure {
    std::string message;
};

int connect_unix(const std::string& path) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path) {
        throw failure{fmt::format("'{}' is too long for a Unix socket path", path)};
    }
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        throw failure{fmt::format("cannot connect to {}: {} (is corrald running, with a [[console]] there?)", path,
                                  std::strerror(errno))};
    }
    return fd;
}

int connect_tcp(const std::string& where) {
    const auto colon = where.rfind(':');
    if (colon == std::string::npos) {
        throw failure{fmt::format("--connect '{}': expected HOST:PORT", where)};
    }
    std::string host = where.substr(0, colon);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), where.substr(colon + 1).c_str(), &hints, &found); rc != 0) {
        throw failure{fmt::format("--connect '{}': {}", where, ::gai_strerror(rc))};
    }
    int fd = -1;
    for (auto* a = found; a && fd < 0; a = a->ai_next) {
        fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            ::close(fd);
            fd = -1;
        }
    }
    ::freeaddrinfo(found);
    if (fd < 0) {
        throw failure{fmt::format("cannot connect to {}: {}", where, std::strerror(errno))};
    }
    return fd;
}

void send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            throw failure{"the console closed the connection"};
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

/// The console's output, cut at its marked prompts.
class reader {
  public:
    explicit reader(int fd) : fd_(fd) {}

    /// The text before the next prompt, and the prompt; no prompt when the console closed.
    std::pair<std::string, std::optional<std::string>> next() {
        const std::string marker(console::prompt_marker);
        for (;;) {
            if (auto open = buffer_.find(marker); open != std::string::npos) {
                if (auto close = buffer_.find(marker, open + marker.size()); close != std::string::npos) {
                    std::string text = buffer_.substr(0, open);
                    std::string prompt = buffer_.substr(open + marker.size(), close - open - marker.size());
                    buffer_.erase(0, close + marker.size());
                    return {std::move(text), std::move(prompt)};
                }
            }
            char chunk[65536];
            const auto n = ::read(fd_, chunk, sizeof chunk);
            if (n <= 0) {
                return {std::exchange(buffer_, {}), std::nullopt};
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

  private:
    int fd_;
    std::string buffer_;
};

std::string history_path() {
    const char* state = std::getenv("XDG_STATE_HOME");
    const char* home = std::getenv("HOME");
    std::filesystem::path dir = state && *state ? std::filesystem::path(state) / "corral"
                                : home          ? std::filesystem::path(home) / ".local/state/corral"
                                                : std::filesystem::path();
    if (dir.empty()) {
        return {};
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    return (dir / "console_history").string();
}

int session(int fd, bool editing) {
    reader in(fd);
    // What came before the first marked prompt: the banner, and on a Unix socket the console's
    // first prompt, written before our hello arrived (the text after the banner's last line).
    auto [text, prompt] = in.next();
    std::fputs(prompt ? text.substr(0, text.rfind('\n') + 1).c_str() : text.c_str(), stdout);
    std::fflush(stdout);
    const auto history = editing ? history_path() : std::string();
    if (editing) {
        using_history();
        stifle_history(1000);
        if (!history.empty()) {
            read_history(history.c_str());
        }
    }
    std::string line;
    while (prompt) {
        if (editing) {
            char* read = readline(prompt->c_str());
            if (!read) {
                break;  // Ctrl-D: the console answers the end of input with a newline
            }
            line = read;
            std::free(read);
            if (!line.empty()) {
                add_history(line.c_str());
            }
        } else if (!std::getline(std::cin, line)) {
            break;
        }
        send_all(fd, line + "\n");
        std::tie(text, prompt) = in.next();
        std::fputs(text.c_str(), stdout);
        std::fflush(stdout);
    }
    if (editing && !history.empty()) {
        write_history(history.c_str());
    }
    if (prompt) {  // we ended it: the console's last words (the end-of-input newline)
        ::shutdown(fd, SHUT_WR);
        std::fputs(in.next().first.c_str(), stdout);
    }
    ::close(fd);
    return 0;
}

std::string token_for(const po::variables_map& vm) {
    if (vm.count("token")) {
        return vm["token"].as<std::string>();
    }
    std::string token;
    if (vm.count("token-file")) {
        std::ifstream in(vm["token-file"].as<std::string>());
        if (!in || !std::getline(in, token)) {
            throw failure{fmt::format("--token-file: cannot read a token from '{}'", vm["token-file"].as<std::string>())};
        }
        return token;
    }
    if (const char* env = std::getenv("CORRAL_TOKEN"); env && *env) {
        return env;
    }
    std::ifstream admin(default_state_dir() + "/admin.token");  // a corrald of ours, on this host
    std::getline(admin, token);
    return token;
}

}  // namespace

int console_command(const std::vector<std::string>& args) {
    po::options_description d("options");
    // clang-format off
    d.add_options()
        ("help,h", "show this help")
        ("socket", po::value<std::string>()->value_name("PATH"),
            "the console's Unix socket (default: $CORRAL_CONSOLE, else <state dir>/console.sock)")
        ("connect", po::value<std::string>()->value_name("HOST:PORT"), "a TCP [[console]] instead (a token is sent first)")
        ("token", po::value<std::string>()->value_name("TOKEN"),
            "with --connect: the token (default: $CORRAL_TOKEN, else this host's corrald admin token)")
        ("token-file", po::value<std::string>()->value_name("PATH"), "with --connect: read the token from PATH");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(d).run(), vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "corral console: %s\n(see corral console --help)\n", e.what());
        return 2;
    }
    if (vm.count("help")) {
        std::cout << "usage: corral console [--socket PATH | --connect HOST:PORT [--token TOKEN]]\n"
                     "corrald's operator console: jobs, services, the queue and the daemon, by command.\n"
                     "On a terminal lines are edited with libedit and kept in $XDG_STATE_HOME/corral/console_history;\n"
                     "Ctrl-D or `exit` leaves. Otherwise each line of stdin is sent and the answers printed.\n\n"
                  << d;
        return 0;
    }
    try {
        const bool tcp = vm.count("connect") > 0;
        const char* env = std::getenv("CORRAL_CONSOLE");
        const std::string path = vm.count("socket") ? vm["socket"].as<std::string>()
                                 : env && *env      ? std::string(env)
                                                    : default_state_dir() + "/console.sock";
        const int fd = tcp ? connect_tcp(vm["connect"].as<std::string>()) : connect_unix(path);
        std::string hello = std::string(console::editing_client_hello) + "\n";
        if (tcp) {
            hello += token_for(vm) + "\n";
        }
        send_all(fd, hello);
        return session(fd, ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO));
    } catch (const failure& f) {
        std::fprintf(stderr, "corral console: %s\n", f.message.c_str());
        return 1;
    }
}

}  // namespace corral::cli
