// The operator console with a real corrald, byte for byte against aioconsole's contract
// (research/seeds-inventory.md §2): the banner, the prompts, help, list, usage errors that keep the
// session open, continuation lines, unknown commands, the end of input and exit; over a Unix socket
// and over TCP with a token first; the role's limits; and `corrald run --console` on stdin.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <fstream>

#include "corral/auth/authority.hpp"
#include "helpers/daemon_process.hpp"
#include "helpers/test_support.hpp"

namespace corral::test {
namespace {

const std::string corrald = CORRALD_PATH;

const std::string banner =
    "Welcome to the CLI interface of corral!\n"
    "Try:\n"
    " * 'help' to display the help message\n"
    " * 'list' to display the command list.\n";

const std::string list_output =
    "List of commands:\n"
    " * components [-h] [--json]\n"
    " * config [-h]\n"
    " * drain [-h]\n"
    " * exit [-h]\n"
    " * help [-h]\n"
    " * jobs [-h] [--state STATE] [--owner OWNER] [--last LAST] [--json]\n"
    " * kill [-h] [--signal SIGNAL] ids [ids ...]\n"
    " * list [-h]\n"
    " * log-level [-h] [level]\n"
    " * queue [-h] [--json]\n"
    " * resume [-h]\n"
    " * run [-h] [--priority PRIORITY] [--group GROUP] [--timeout TIMEOUT]\n"
    "           [--cwd CWD] [--stdin-pipe] [--merge]\n"
    "           command [command ...]\n"
    " * show [-h] [--json] id\n"
    " * signal [-h] label signal\n"
    " * stats [-h] [--json]\n"
    " * svc [-h] [--json] action [names ...]\n"
    " * tasks [-h] [--json]\n";

/// Connects, sends `input`, half-closes, and returns everything the console wrote until it closed.
std::string transcript(int fd, const std::string& input) {
    EXPECT_EQ(::write(fd, input.data(), input.size()), static_cast<ssize_t>(input.size()));
    ::shutdown(fd, SHUT_WR);
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) {
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

int unix_connect(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << path;
    return fd;
}

int tcp_connect(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << port;
    return fd;
}

std::string tokens_file() {
    static const std::string path = [] {
        char dir[] = "/tmp/corral-console-tokens-XXXXXX";
        if (!::mkdtemp(dir)) {
            throw std::runtime_error("mkdtemp failed");
        }
        const std::string p = std::string(dir) + "/tokens";
        std::ofstream out(p);
        for (auto [user, role] : {std::pair{"alice", "user"}, {"root", "admin"}}) {
            out << user << ':' << role << ':' << auth::hash_token(std::string(user) + "-secret") << "\n";
        }
        return p;
    }();
    return path;
}

class Console : public ::testing::Test {
  protected:
    static std::string config() {
        return daemon_process::default_config(
            "[auth]\ntokens_file = \"" + tokens_file() + "\"\n"
            "[auth.roles.user]\ncommands = true\n"
            "[auth.roles.admin]\nadmin = true\n"
            "[[console]]\nlabel = \"console-unix\"\nlisten = \"unix:@STATE@/console.sock\"\n"
            "[[console]]\nlabel = \"console-tcp\"\nlisten = \"127.0.0.1:0\"\nmax_line = 100\n"
            "[[console]]\nlabel = \"console-hello\"\nlisten = \"unix:@STATE@/hello.sock\"\nprompt = \"[Hello!] \"\n"
            "banner = \"test\"\n");
    }
    void SetUp() override { ASSERT_TRUE(daemon_.ready()) << daemon_.log(); }
    std::string over_unix(const std::string& input) { return transcript(unix_connect(daemon_.state_dir() + "/console.sock"), input); }
    std::string over_tcp(const std::string& input) { return transcript(tcp_connect(daemon_.port_of("console-tcp")), input); }

    daemon_process daemon_{config()};
};

TEST_F(Console, TheBuiltInsAnswerAsAioconsolesDo) {
    EXPECT_EQ(over_unix("help\nlist\nhellooo\n"),
              banner + ">>> " +
                  "Type 'help' to display this message.\n"
                  "Type 'list' to display the command list.\n"
                  "Type '<command> -h' to display the help message of <command>.\n"
                  ">>> " + list_output + ">>> " +
                  "Command 'hellooo' does not exist.\n"
                  ">>> \n");
    // exit ends the session at once, without a newline.
    EXPECT_EQ(over_unix("exit\nhelp\n"), banner + ">>> ");
    // The prompts and the banner of another [[console]].
    EXPECT_EQ(transcript(unix_connect(daemon_.state_dir() + "/hello.sock"), "hellooo\n"),
              "test\n[Hello!] Command 'hellooo' does not exist.\n[Hello!] \n");
}

TEST_F(Console, UsageErrorsAndHelpPrintAndTheSessionGoesOn) {
    EXPECT_EQ(over_unix("show\nkill x\nqueue --bogus\nexit -h\n\n'unclosed\nhelp\n"),
              banner + ">>> " +
                  "usage: show [-h] [--json] id\nshow: error: the following arguments are required: id\n>>> " +
                  "usage: kill [-h] [--signal SIGNAL] ids [ids ...]\nkill: error: argument ids: invalid int value: 'x'\n>>> " +
                  "usage: queue [-h] [--json]\nqueue: error: unrecognized arguments: --bogus\n>>> " +
                  "usage: exit [-h]\n\nExit the interface.\n\noptions:\n  -h, --help  show this help message and exit\n>>> " +
                  ">>> >>> " +  // an empty line and unbalanced quotes do nothing
                  "Type 'help' to display this message.\n"
                  "Type 'list' to display the command list.\n"
                  "Type '<command> -h' to display the help message of <command>.\n>>> \n");
}

TEST_F(Console, ATrailingBackslashContinuesTheLine) {
    const auto out = over_unix("run " + fake_child + " \\\nprint \\\n   joined\nshow 1 --json\n");
    EXPECT_EQ(out.substr(0, banner.size() + 4 + 4 + 4 + 6), banner + ">>> ... ... job 1\n") << out;
    EXPECT_NE(out.find("\"command\":[\"" + fake_child + "\",\"print\",\"joined\"]"), std::string::npos) << out;
}

TEST_F(Console, OverTcpTheTokenComesFirstAndAWrongOneGetsNoBanner) {
    EXPECT_EQ(over_tcp("not-a-token\nhelp\n"), "Authentication failed.\n");
    EXPECT_EQ(over_tcp(""), "Authentication failed.\n");
    const auto out = over_tcp("root-secret\nhellooo\n");
    EXPECT_EQ(out, banner + ">>> Command 'hellooo' does not exist.\n>>> \n");
    // A line over max_line (100 bytes here) is dropped, said so, and the session goes on.
    const auto longer = over_tcp("root-secret\n" + std::string(300, 'x') + "\nhellooo\n");
    EXPECT_EQ(longer, banner + ">>> error: a line longer than 100 bytes was dropped\nCommand 'hellooo' does not exist.\n>>> \n");
}

TEST_F(Console, TheRolesRightsApplyToEveryCommand) {
    const auto out = over_tcp("alice-secret\nrun " + fake_child + " print mine\njobs\ndrain\nsvc ls\nconfig\nlog-level debug\nlog-level\n");
    EXPECT_NE(out.find(">>> job 1\n"), std::string::npos) << out;
    EXPECT_NE(out.find("     1  "), std::string::npos) << out;  // her own job is listed
    EXPECT_NE(out.find("error: role 'user' (alice) may not administer the queue\n"), std::string::npos) << out;
    EXPECT_NE(out.find("error: role 'user' (alice) may not see services (it takes see_all)\n"), std::string::npos) << out;
    EXPECT_NE(out.find(">>> error: role 'user' (alice) may not administer the queue\n>>> error: role 'user' (alice) may not administer the queue\n>>> info\n"),
              std::string::npos)
        << out;
    const auto no_signals = over_tcp("alice-secret\nsignal web HUP\n");
    EXPECT_NE(no_signals.find("error: role 'user' (alice) may not administer the queue"), std::string::npos) << no_signals;
    // Another user's job is not hers to see or kill.
    const auto root = over_unix("run " + fake_child + " sleep 60000\n");
    EXPECT_NE(root.find("job 2"), std::string::npos) << root;
    const auto denied = over_tcp("alice-secret\nshow 2\nkill 2\n");
    EXPECT_NE(denied.find("error: no job 2"), std::string::npos) << denied;
    EXPECT_NE(denied.find("job 2: no job 2"), std::string::npos) << denied;
    const auto killed = over_unix("kill 2\n");
    EXPECT_NE(killed.find("job 2: stopping"), std::string::npos) << killed;
}

TEST(ConsoleSignals, ASignalGoesToTheComponentsOfOneLabel) {
    daemon_process d(daemon_process::default_config("[[service]]\nname = \"hup\"\nrestart = \"never\"\n"
                                                    "command = [\"" + fake_child + "\", \"sleep\", \"60000\"]\n"));
    ASSERT_TRUE(d.ready()) << d.log();
    ASSERT_TRUE(d.wait_for_log("service hup: ready")) << d.log();
    const auto out = transcript(unix_connect(d.state_dir() + "/console.sock"),
                                "signal services HUP\nsignal web USR1\nsignal nothing HUP\nsignal web NOPE\n");
    EXPECT_NE(out.find(">>> component 3 (services): sent HUP to 1 running service(s)\n"), std::string::npos) << out;
    EXPECT_NE(out.find(">>> component 4 (web): takes no signals\n"), std::string::npos) << out;
    EXPECT_NE(out.find(">>> error: no component labelled 'nothing'\n"), std::string::npos) << out;
    EXPECT_NE(out.find(">>> error: "), std::string::npos) << out;
    // The service's process got it: fake_child does not catch HUP, so it ended by it.
    EXPECT_TRUE(d.wait_for_log("service hup: exited: job 1 killed by signal HUP")) << d.log();
}

TEST_F(Console, CorralConsoleSendsLinesAndPrintsAnswersWithoutATerminal) {
    const std::string cli = CORRAL_CLI_PATH;
    auto piped = run_program({cli, "console", "--socket", daemon_.state_dir() + "/console.sock"}, {}, "hellooo\nstats\n");
    EXPECT_EQ(piped.status, 0) << piped.err;
    EXPECT_EQ(piped.out.substr(0, banner.size()), banner) << piped.out;
    EXPECT_NE(piped.out.find("Command 'hellooo' does not exist.\njobs: 0 submitted"), std::string::npos) << piped.out;
    EXPECT_EQ(piped.out.find(">>> "), std::string::npos) << "prompts are for people at a terminal: " << piped.out;
    // Over TCP the token goes first.
    auto tcp = run_program({cli, "console", "--connect", "127.0.0.1:" + std::to_string(daemon_.port_of("console-tcp")),
                            "--token", "root-secret"},
                           {}, "hellooo\n");
    EXPECT_EQ(tcp.status, 0) << tcp.err;
    EXPECT_NE(tcp.out.find(banner + "Command 'hellooo' does not exist.\n"), std::string::npos) << tcp.out;
    auto refused = run_program({cli, "console", "--connect", "127.0.0.1:" + std::to_string(daemon_.port_of("console-tcp")),
                                "--token", "wrong"},
                               {}, "help\n");
    EXPECT_NE(refused.out.find("Authentication failed."), std::string::npos) << refused.out;
}

TEST_F(Console, CorralConsoleEditsLinesOnATerminal) {
    // script(1) gives it a terminal: libedit reads the line and echoes it after the prompt.
    const std::string cli = CORRAL_CLI_PATH;
    temp_dir home;
    auto r = run_program({"/usr/bin/script", "-qec", cli + " console --socket " + daemon_.state_dir() + "/console.sock", "/dev/null"},
                         {{"XDG_STATE_HOME", home.path().string()}}, "hellooo\n");
    EXPECT_NE(r.out.find(">>> hellooo"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Command 'hellooo' does not exist."), std::string::npos) << r.out;
    std::ifstream history(home.file("corral/console_history"));
    std::string kept((std::istreambuf_iterator<char>(history)), std::istreambuf_iterator<char>());
    EXPECT_NE(kept.find("hellooo"), std::string::npos) << "history: " << kept;
}

TEST(ConsoleOnStdin, CorraldRunConsoleServesItsTerminalAndExitStopsIt) {
    temp_dir dir;
    { std::ofstream(dir.file("c.toml")) << "[pod]\nstate_dir = \"" + dir.file("state") + "\"\n[[http]]\nlabel = \"cli\"\nlisten = \"unix:" + dir.file("cli.sock") + "\"\n"; }
    auto r = run_program({corrald, "run", "-c", dir.file("c.toml"), "--console"}, {}, "hellooo\nexit\n");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, banner + ">>> Command 'hellooo' does not exist.\n>>> ");
    EXPECT_NE(r.err.find("stop requested: the console on stdin ended"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace corral::test
