// Plugins in a real corrald: the example of each shape (examples/plugins) loaded by name, serving,
// and stopping cleanly; and the clear errors, with a non-zero exit, for plugins corrald cannot use.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "helpers/daemon_process.hpp"
#include "helpers/http_client.hpp"
#include "helpers/loopback_client.hpp"

namespace corral::test {
namespace {

namespace fs = std::filesystem;
const std::string corrald = CORRALD_PATH;

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Polls `done` for up to 10 s (work that happens in corrald, seen from outside).
template <class F>
bool within_10s(F done) {
    for (int i = 0; i < 1000; ++i) {
        if (done()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
}

struct scratch_dir {
    fs::path path = fs::temp_directory_path() /
                    ("corral-plugins-" + std::to_string(::getpid()) + "-" +
                     std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    scratch_dir() { fs::create_directories(path / "spool"); }
    ~scratch_dir() { fs::remove_all(path); }
};

TEST(Plugins, OneOfEachShapeServesAndStopsCleanly) {
    scratch_dir dir;
    const auto beat = (dir.path / "beat.log").string();
    daemon_process d(daemon_process::default_config(
        "[[component]]\nplugin = \"libcorral_heartbeat.so\"\nlabel = \"beat\"\npath = \"" + beat +
        "\"\ninterval = \"20ms\"\n"
        "[[component]]\nplugin = \"libcorral_echo_server.so\"\nlabel = \"echo\"\nlisten = \"127.0.0.1:0\"\n"
        "greeting = \"hello from a plugin\"\nmax_line = 64\n"
        "[[component]]\nplugin = \"libcorral_spool_worker.so\"\nlabel = \"spool\"\nspool = \"" +
        (dir.path / "spool").string() + "\"\nconsumers = 3\nqueue = 2\npoll = \"20ms\"\n"));
    ASSERT_TRUE(d.ready()) << d.log();

    // The TCP server: a coroutine per connection, two clients at once.
    const auto port = d.port_of("echo");
    ASSERT_GT(port, 0) << d.log();
    {
        loopback_client a(port), b(port);
        EXPECT_EQ(a.read_some(), "hello from a plugin\n");
        EXPECT_EQ(b.read_some(), "hello from a plugin\n");
        ASSERT_TRUE(a.write("first line\n"));
        ASSERT_TRUE(b.write("second\n"));
        EXPECT_EQ(a.read_some(), "first line\n");
        EXPECT_EQ(b.read_some(), "second\n");
        ASSERT_TRUE(b.write(std::string(100, 'x') + "\n"));  // over max_line: refused, and let go
        EXPECT_EQ(b.read_some(), "error: a line is longer than 64 bytes\n");
        EXPECT_EQ(b.read_some(), "");
        EXPECT_TRUE(b.closed());
    }  // closed, so that the stop below need not wait for them

    // The producer/consumer flow: more files than the queue holds, each counted once.
    for (int i = 0; i < 10; ++i) {
        std::ofstream(dir.path / "spool" / ("f" + std::to_string(i)))
            << std::string(static_cast<std::size_t>(i), 'w') << "\nsecond line\n";
    }
    EXPECT_TRUE(within_10s([&] { return fs::exists(dir.path / "spool" / "done" / "f9.count"); })) << d.log();
    EXPECT_TRUE(within_10s([&] {
        int counted = 0;
        for (int i = 0; i < 10; ++i) {
            counted += fs::exists(dir.path / "spool" / "done" / ("f" + std::to_string(i) + ".count"));
        }
        return counted == 10;
    }));
    EXPECT_EQ(read_file(dir.path / "spool" / "done" / "f3.count"), "2 3 16\n");
    EXPECT_EQ(read_file(dir.path / "spool" / "done" / "f0.count"), "2 2 13\n");
    EXPECT_FALSE(fs::exists(dir.path / "spool" / "f3"));  // moved to done/

    // The simple server: beats while it runs, then its cleanup's last line.
    EXPECT_TRUE(within_10s([&] { return read_file(beat).find("\n3 alive\n") != std::string::npos; }));
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(), 0) << d.log();
    const auto beats = read_file(beat);
    EXPECT_TRUE(beats.starts_with("started (alive)\n")) << beats;
    EXPECT_NE(beats.find("stopped after "), std::string::npos) << beats;
    EXPECT_TRUE(beats.ends_with(" beats\n")) << beats;
    const auto log = d.log();
    // Started after every built-in component, stopped before them, with their own log lines.
    EXPECT_LT(log.find("(web) started"), log.find("(beat) started: a heartbeat in " + beat)) << log;
    EXPECT_NE(log.find("(beat): stopping after "), std::string::npos) << log;
    EXPECT_LT(log.find("(spool) stopped"), log.find("(web) stopped")) << log;
}

TEST(Plugins, CommandLineComponentsTakePluginsWithTypedKeys) {
    scratch_dir dir;
    daemon_process d(
        daemon_process::default_config(),
        {"component:plugin=libcorral_echo_server.so,label=echo2,listen=127.0.0.1:0,max_line=1KiB"});
    ASSERT_TRUE(d.ready()) << d.log();
    {
        loopback_client c(d.port_of("echo2"));
        ASSERT_TRUE(c.write("over the command line\n"));
        EXPECT_EQ(c.read_some(), "over the command line\n");
    }
    d.signal(SIGINT);
    EXPECT_EQ(d.wait_exit(), 0) << d.log();
}

TEST(Plugins, UnusablePluginsAreClearErrorsAndANonZeroExit) {
    scratch_dir dir;
    const auto config = dir.path / "c.toml";
    std::ofstream(config)
        << "[pod]\nstate_dir = \"" << (dir.path / "state").string() << "\"\n"
        << "[[component]]\nplugin = \"libcorral_heartbeat.so\"\npath = \"/tmp/x\"\ninterval = \"1ms\"\n"
        << "intervall = \"1s\"\n"
        << "[[component]]\nplugin = \"no-such-plugin.so\"\n"
        << "[[component]]\nplugin = \"./missing/libx.so\"\n"
        << "[[component]]\nplugin = \"" << CORRAL_NOT_A_PLUGIN << "\"\n"
        << "[[component]]\nplugin = \"" << CORRAL_INCOMPATIBLE_PLUGIN << "\"\n"
        << "[[component]]\nlabel = \"nothing\"\n";
    for (const char* command : {"check", "run"}) {
        auto r = run_program({corrald, command, "-c", config.string()});
        EXPECT_NE(r.status, 0) << command;
        const auto& e = r.err;
        EXPECT_NE(e.find("c.toml:6: component[1].interval: must be at least 10ms"), std::string::npos) << e;
        EXPECT_NE(e.find("c.toml:7: component[1].intervall: unknown key"), std::string::npos) << e;
        EXPECT_NE(
            e.find("component[2].plugin: plugin no-such-plugin.so: not found (a bare name is looked for in "),
            std::string::npos)
            << e;
        EXPECT_NE(e.find("component[3].plugin: plugin " + (dir.path / "missing/libx.so").string() +
                         ": no such file"),
                  std::string::npos)
            << e;
        EXPECT_NE(e.find(std::string("component[4].plugin: plugin ") + CORRAL_NOT_A_PLUGIN +
                         ": is not a corral plugin (it exports no corral_plugin_abi"),
                  std::string::npos)
            << e;
        EXPECT_NE(
            e.find(
                std::string("component[5].plugin: plugin ") + CORRAL_INCOMPATIBLE_PLUGIN +
                ": was built for 'corral-plugin/0 boost/107400 gxx-abi/1013 cxx11-abi/1', and this corrald "
                "takes 'corral-plugin/1 "),
            std::string::npos)
            << e;
        EXPECT_NE(e.find("component[6].plugin: required: "), std::string::npos) << e;
        EXPECT_FALSE(fs::exists(dir.path / "state" / "corral.db"))
            << "run started although the config is invalid";
    }
}

TEST(Plugins, APluginThatCannotStartStopsCorraldWithStatus1NamingIt) {
    daemon_process d(
        daemon_process::default_config("[[component]]\nplugin = \"libcorral_heartbeat.so\"\nlabel = "
                                       "\"beat\"\npath = \"/nonexistent/dir/beat.log\"\n"));
    EXPECT_FALSE(d.ready());
    EXPECT_EQ(d.wait_exit(), 1);
    EXPECT_NE(d.log().find("corrald exits with status 1: component 7 (beat) failed to start: cannot write to "
                           "/nonexistent/dir/beat.log"),
              std::string::npos)
        << d.log();
}

TEST(Plugins, ComponentsSharingALabelTakeItsOverridesAndSignalsTogether) {
    scratch_dir dir;
    const auto first = (dir.path / "first.log").string();
    const auto second = (dir.path / "second.log").string();
    daemon_process d(
        daemon_process::default_config(
            "[[component]]\nplugin = \"libcorral_heartbeat.so\"\nlabel = \"beats\"\npath = \"" + first +
            "\"\ninterval = \"1h\"\n"
            "[[component]]\nplugin = \"libcorral_heartbeat.so\"\nlabel = \"beats\"\npath = \"" +
            second + "\"\ninterval = \"1h\"\n"),
        std::map<std::string, std::string>{{"CORRAL_BEATS__MESSAGE", "shared"}});
    ASSERT_TRUE(d.ready()) << d.log();
    EXPECT_EQ(read_file(first), "started (shared)\n");
    EXPECT_EQ(read_file(second), "started (shared)\n");
    auto listed = http(d.web(), "GET", "/api/v1/components");
    EXPECT_NE(listed.body.find(R"({"id":7,"label":"beats")"), std::string::npos) << listed.body;
    EXPECT_NE(listed.body.find(R"({"id":8,"label":"beats")"), std::string::npos) << listed.body;
    auto sent = http(d.web(), "POST", "/api/v1/components/beats/signal", R"({"signal": "USR1"})");
    EXPECT_EQ(sent.status, 200u) << sent.body;
    EXPECT_NE(sent.body.find("component 7 (beats): marked " + first + " with signal 10"), std::string::npos)
        << sent.body;
    EXPECT_NE(sent.body.find("component 8 (beats): marked " + second + " with signal 10"), std::string::npos)
        << sent.body;
    EXPECT_TRUE(within_10s([&] {
        return read_file(first).ends_with("signal 10\n") && read_file(second).ends_with("signal 10\n");
    }));
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(), 0) << d.log();
}

}  // namespace
}  // namespace corral::test
