// fake_child: a deterministic child for tests, instead of /bin/* (research/aesthetics.md §9.9).
// It runs the actions given on its command line in order, e.g.
//   fake_child print hello sleep 100 exit 3
// Actions:
//   exit N              exit with code N (the default at the end is 0)
//   sleep MS            sleep MS milliseconds
//   print TEXT          write TEXT and a newline to stdout     eprint TEXT   ... to stderr
//   write TEXT          write TEXT to stdout without a newline
//   echo                copy stdin to stdout until EOF
//   spew N [err]        write N bytes ('x' lines of 64) to stdout (or stderr)
//   ignore-term         ignore SIGTERM (inherited by processes forked later)
//   block-term          block SIGTERM: one sent stays pending, where /proc/PID/status shows it
//   fork N              fork N children that each sleep forever (their pids go to the pid file)
//   daemonize           double-fork a grandchild that calls setsid and sleeps forever
//   vanish MS           like daemonize, but the grandchild also clears its environment (it re-executes
//                       itself with none) and sleeps MS ms, keeping stdout and stderr open: a process
//                       that process-group mode cannot find
//   pidfile PATH        append this and every later process's pid to PATH, one per line
//   env NAME            print the value of NAME, or <unset>
//   cwd                 print the working directory
//   fds                 print the open descriptors, space-separated
//   isatty              print "tty" or "notty" for stdout
//   limits              print RLIMIT_CPU, _AS, _NOFILE, _NPROC soft limits ("unlimited" or a number)
//   signal SIG          send SIG (a number) to itself
//   clock PATH          append CLOCK_MONOTONIC in nanoseconds to PATH (benchmarks time a step with two)
//   serve-unix PATH     listen on the Unix socket PATH and echo what each client sends until it
//                       closes, one client after another, for ever (runner's socket-type processes,
//                       services that are ready once their socket accepts)
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

namespace {

std::string pid_file;

void write_all(int fd, const char* data, std::size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, data, n);
        if (w <= 0) {
            std::_Exit(3);
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
}

void say(int fd, const std::string& s) {
    write_all(fd, s.data(), s.size());
}

void record_pid() {
    if (pid_file.empty()) {
        return;
    }
    int fd = ::open(pid_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    say(fd, std::to_string(::getpid()) + "\n");
    ::close(fd);
}

[[noreturn]] void sleep_forever() {
    for (;;) {
        ::pause();
    }
}

void spew(long long n, int fd) {
    std::string line(63, 'x');
    line += '\n';
    std::string block;
    while (block.size() < 65536) {
        block += line;
    }
    while (n > 0) {
        auto k = static_cast<std::size_t>(std::min<long long>(n, static_cast<long long>(block.size())));
        write_all(fd, block.data(), k);
        n -= static_cast<long long>(k);
    }
}

void list_fds() {
    std::string out;
    DIR* d = ::opendir("/proc/self/fd");
    int own = ::dirfd(d);
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] != '.' && std::atoi(e->d_name) != own) {
            out += (out.empty() ? "" : " ") + std::string(e->d_name);
        }
    }
    ::closedir(d);
    say(1, out + "\n");
}

void print_limits() {
    const int resources[] = {RLIMIT_CPU, RLIMIT_AS, RLIMIT_NOFILE, RLIMIT_NPROC};
    std::string out;
    for (int r : resources) {
        rlimit l{};
        ::getrlimit(r, &l);
        out += (out.empty() ? "" : " ") +
               (l.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(l.rlim_cur));
    }
    say(1, out + "\n");
}

void daemonize() {
    if (::fork() != 0) {
        return;  // the caller goes on
    }
    if (::fork() != 0) {
        std::_Exit(0);  // the middle process exits: the grandchild is orphaned
    }
    ::setsid();
    record_pid();
    sleep_forever();
}

void vanish(const std::string& ms) {
    // The caller goes on only once the grandchild has exec'd without an environment (the pipe's
    // write end closes at that exec): until then process-group mode could still find it by its tag.
    int exec_watch[2];
    if (::pipe2(exec_watch, O_CLOEXEC) != 0) {
        std::_Exit(125);
    }
    if (::fork() != 0) {
        ::close(exec_watch[1]);
        char c;
        while (::read(exec_watch[0], &c, 1) > 0) {
        }
        ::close(exec_watch[0]);
        return;
    }
    ::close(exec_watch[0]);
    if (::fork() != 0) {
        std::_Exit(0);
    }
    ::setsid();
    record_pid();
    std::string self = "fake_child", sleep = "sleep", time = ms;
    char* argv[] = {self.data(), sleep.data(), time.data(), nullptr};
    char* envp[] = {nullptr};
    ::execve("/proc/self/exe", argv, envp);
    std::_Exit(127);
}

void serve_unix(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    const int server = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (server < 0 || ::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(server, 1) != 0) {
        std::_Exit(124);
    }
    for (;;) {
        const int client = ::accept(server, nullptr, nullptr);
        char buf[65536];
        for (ssize_t n; client >= 0 && (n = ::read(client, buf, sizeof buf)) > 0;) {
            if (::write(client, buf, static_cast<std::size_t>(n)) != n) {
                break;
            }
        }
        ::close(client);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto next = [&]() -> std::string { return i + 1 < args.size() ? args[++i] : std::string(); };
        if (a == "exit") {
            return std::atoi(next().c_str());
        } else if (a == "sleep") {
            ::usleep(static_cast<useconds_t>(std::atol(next().c_str()) * 1000));
        } else if (a == "print") {
            say(1, next() + "\n");
        } else if (a == "eprint") {
            say(2, next() + "\n");
        } else if (a == "write") {
            say(1, next());
        } else if (a == "echo") {
            char buf[65536];
            for (ssize_t n; (n = ::read(0, buf, sizeof buf)) > 0;) {
                write_all(1, buf, static_cast<std::size_t>(n));
            }
        } else if (a == "spew") {
            long long n = std::atoll(next().c_str());
            bool err = i + 1 < args.size() && args[i + 1] == "err";
            i += err ? 1 : 0;
            spew(n, err ? 2 : 1);
        } else if (a == "serve-unix") {
            serve_unix(next());
        } else if (a == "ignore-term") {
            ::signal(SIGTERM, SIG_IGN);
        } else if (a == "block-term") {
            sigset_t term;
            sigemptyset(&term);
            sigaddset(&term, SIGTERM);
            ::sigprocmask(SIG_BLOCK, &term, nullptr);
        } else if (a == "fork") {
            for (int k = std::atoi(next().c_str()); k > 0; --k) {
                if (::fork() == 0) {
                    record_pid();
                    sleep_forever();
                }
            }
        } else if (a == "daemonize") {
            daemonize();
        } else if (a == "vanish") {
            vanish(next());
        } else if (a == "pidfile") {
            pid_file = next();
            record_pid();
        } else if (a == "env") {
            const char* v = std::getenv(next().c_str());
            say(1, std::string(v ? v : "<unset>") + "\n");
        } else if (a == "cwd") {
            char buf[4096];
            say(1, std::string(::getcwd(buf, sizeof buf) ? buf : "?") + "\n");
        } else if (a == "fds") {
            list_fds();
        } else if (a == "isatty") {
            say(1, ::isatty(1) ? "tty\n" : "notty\n");
        } else if (a == "limits") {
            print_limits();
        } else if (a == "clock") {
            timespec ts{};
            ::clock_gettime(CLOCK_MONOTONIC, &ts);
            std::ofstream(next(), std::ios::app) << ts.tv_sec * 1'000'000'000LL + ts.tv_nsec << "\n";
        } else if (a == "signal") {
            ::kill(::getpid(), std::atoi(next().c_str()));
        } else {
            say(2, "fake_child: unknown action '" + a + "'\n");
            return 99;
        }
    }
    return 0;
}
