#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "spawn_prep.hpp"

extern char** environ;

namespace corral::proc {
namespace {

error_info spawn_error(std::string message) {
    return {make_error_code(errc::spawn_failed), std::move(message)};
}

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Bigger pipes mean fewer wake-ups for chatty children; a refusal (limits) is harmless.
void enlarge_pipe(int fd) {
    ::fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

result_info<std::array<unique_fd, 2>> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return spawn_error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
    }
    enlarge_pipe(fds[0]);
    return std::array<unique_fd, 2>{unique_fd(fds[0]), unique_fd(fds[1])};
}

result_info<unique_fd> open_pty_slave(const spawn_options& options, unique_fd& master) {
    master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    char name[128];
    if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0 ||
        ::ptsname_r(master.get(), name, sizeof name) != 0) {
        return spawn_error(fmt::format("cannot allocate a pseudo-terminal: {}", std::strerror(errno)));
    }
    unique_fd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave) {
        return spawn_error(fmt::format("cannot open {}: {}", name, std::strerror(errno)));
    }
    winsize ws{};
    ws.ws_row = options.pty_size.rows;
    ws.ws_col = options.pty_size.columns;
    ::ioctl(master.get(), TIOCSWINSZ, &ws);
    return slave;
}

/// The parent's own descriptor 0, 1 or 2 for the child, or /dev/null where the parent has it closed
/// (a daemon), so the child's set-up does not fail on it.
result_info<int> inherited(int fd, stdio_fds& io) {
    if (::fcntl(fd, F_GETFD) >= 0) {
        return fd;
    }
    unique_fd null(::open("/dev/null", (fd == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC));
    if (!null) {
        return spawn_error(fmt::format("cannot open /dev/null: {}", std::strerror(errno)));
    }
    io.child_owned.push_back(std::move(null));
    return io.child_owned.back().get();
}

result_info<unique_fd> open_stdin_source(const spawn_options& options) {
    const char* path = options.input == input_mode::file ? options.stdin_file.c_str() : "/dev/null";
    if (options.input == input_mode::file && options.stdin_file.empty()) {
        return error_info{make_error_code(errc::invalid_spec), "stdin mode 'file' needs a file name"};
    }
    // O_NONBLOCK: opening a FIFO with no writer (or a terminal device) would otherwise block the
    // thread that serves every client. The job gets a blocking descriptor, as it would expect.
    unique_fd fd(::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd || ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK) != 0) {
        return spawn_error(fmt::format("cannot open stdin file '{}': {}", path, std::strerror(errno)));
    }
    return fd;
}

}  // namespace

result_info<std::vector<std::string>> build_argv(const spawn_options& options) {
    if (options.shell_command) {
        return std::vector<std::string>{"/bin/sh", "-c", *options.shell_command};
    }
    if (options.argv.empty() || options.argv.front().empty()) {
        return error_info{make_error_code(errc::invalid_spec), "no command given (argv is empty)"};
    }
    return options.argv;
}

std::vector<std::string> build_environment(const environment& env) {
    std::vector<std::string> out;
    if (env.inherit) {
        for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
            out.emplace_back(*e);
        }
    }
    for (const auto& change : env.changes) {
        const auto& [name, value] = change;
        // The key as a capture of its own: clang 14 cannot capture a structured binding.
        std::erase_if(out, [&key = change.first](const std::string& entry) {
            return entry.size() > key.size() && entry[key.size()] == '=' && entry.starts_with(key);
        });
        if (value) {
            out.push_back(name + "=" + *value);
        }
    }
    return out;
}

result_info<std::string> find_program(const std::string& name,
                                      const std::vector<std::string>& env,
                                      const std::string& cwd) {
    if (name.find('/') != std::string::npos) {
        return name;  // exec reports ENOENT/EACCES with the stage; relative paths resolve in the child's cwd
    }
    std::string path = "/usr/local/bin:/usr/bin:/bin";
    for (const auto& entry : env) {
        if (entry.starts_with("PATH=")) {
            path = entry.substr(5);
        }
    }
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find(':', start);
        std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (dir.empty()) {
            dir = ".";  // POSIX: an empty PATH entry is the current directory
        }
        if (dir.front() != '/' && !cwd.empty()) {
            dir = cwd + "/" + dir;
        }
        std::string candidate = dir + "/" + name;
        if (is_executable_file(candidate)) {
            return candidate;
        }
        if (end == std::string::npos) {
            break;
        }
        start = end + 1;
    }
    return error_info{make_error_code(errc::executable_not_found),
                      fmt::format("'{}': command not found in PATH ({})", name, path)};
}

result_info<stdio_fds> make_stdio(const spawn_options& options) {
    stdio_fds io;
    auto own = [&](unique_fd fd) {
        io.child_owned.push_back(std::move(fd));
        return io.child_owned.back().get();
    };
    if (options.input == input_mode::pipe && !options.pty) {
        auto p = make_pipe();
        if (!p) {
            return p.error();
        }
        io.child[0] = own(std::move((*p)[0]));
        io.stdin_write = std::move((*p)[1]);
    } else if (options.input == input_mode::inherit) {
        auto fd = inherited(0, io);
        if (!fd) {
            return fd.error();
        }
        io.child[0] = *fd;
    } else if (options.input != input_mode::pipe) {
        auto fd = open_stdin_source(options);
        if (!fd) {
            return fd.error();
        }
        io.child[0] = own(std::move(*fd));
    }
    if (options.pty) {
        unique_fd master;
        auto slave = open_pty_slave(options, master);
        if (!slave) {
            return slave.error();
        }
        int s = own(std::move(*slave));
        io.child[1] = io.child[2] = s;
        if (options.input == input_mode::pipe) {
            io.child[0] = s;
            io.stdin_write.reset(::fcntl(master.get(), F_DUPFD_CLOEXEC, 3));
        }
        io.stdout_read = std::move(master);
        io.pty = true;
        return io;
    }
    if (options.output == output_mode::inherit) {
        for (int fd : {1, 2}) {
            auto theirs = inherited(fd, io);
            if (!theirs) {
                return theirs.error();
            }
            io.child[fd] = *theirs;
        }
        return io;
    }
    auto out = make_pipe();
    if (!out) {
        return out.error();
    }
    io.stdout_read = std::move((*out)[0]);
    io.child[1] = own(std::move((*out)[1]));
    if (options.output == output_mode::merged) {
        io.child[2] = io.child[1];
        return io;
    }
    if (options.output == output_mode::stdout_only) {
        auto theirs = inherited(2, io);
        if (!theirs) {
            return theirs.error();
        }
        io.child[2] = *theirs;
        return io;
    }
    auto err = make_pipe();
    if (!err) {
        return err.error();
    }
    io.stderr_read = std::move((*err)[0]);
    io.child[2] = own(std::move((*err)[1]));
    return io;
}

}  // namespace corral::proc
