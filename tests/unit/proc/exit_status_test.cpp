#include "corral/proc/exit_status.hpp"

#include <signal.h>

#include <gtest/gtest.h>

namespace corral::proc {
namespace {

TEST(ExitStatus, DecodesWaitidCodes) {
    EXPECT_EQ(exit_status::from_wait(CLD_EXITED, 4), exit_status(exited{4}));
    EXPECT_EQ(exit_status::from_wait(CLD_KILLED, SIGTERM), exit_status(signaled{SIGTERM, false}));
    EXPECT_EQ(exit_status::from_wait(CLD_DUMPED, SIGSEGV), exit_status(signaled{SIGSEGV, true}));
}

TEST(ExitStatus, DistinguishesExitFifteenFromSigterm) {
    exit_status code15 = exited{15};
    exit_status term = signaled{SIGTERM};
    EXPECT_NE(code15, term);
    EXPECT_EQ(code15.shell_code(), 15);
    EXPECT_EQ(term.shell_code(), 143);
}

TEST(ExitStatus, DescribesItselfForPeople) {
    EXPECT_TRUE(exit_status(exited{0}).success());
    EXPECT_FALSE(exit_status(exited{1}).success());
    EXPECT_EQ(exit_status(exited{2}).describe(), "exited with code 2");
    EXPECT_EQ(exit_status(signaled{SIGKILL}).describe(), "killed by signal KILL");
    EXPECT_EQ(exit_status(signaled{SIGSEGV, true}).describe(), "killed by signal SEGV (core dumped)");
}

}  // namespace
}  // namespace corral::proc
