#include "corral/auth/authority.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <fstream>

namespace corral::auth {
namespace {

std::string temp_file(const std::string& text) {
    char path[] = "/tmp/corral-auth-XXXXXX";
    const int fd = ::mkstemp(path);
    ::close(fd);
    std::ofstream(path) << text;
    return path;
}

TEST(Authority, HashesTokensAsSha256) {
    EXPECT_EQ(hash_token("ivan"), "sha256:cd0b9452fc376fc4c35a60087b366f70d883fc901524daf1f122fbd319384f6a");
}

TEST(Authority, IdentifiesByTokenPeerOrAnonymousRole) {
    auth_options o;
    o.tokens_file = temp_file("# comment\n\nivan:user:" + hash_token("ivan-token") + "\n");
    o.anonymous_role = "";
    auto a = authority::create(o);
    ASSERT_TRUE(a) << a.error().what();
    EXPECT_TRUE(a->enabled());
    auto ivan = a->identify("ivan-token", std::nullopt);
    ASSERT_TRUE(ivan);
    EXPECT_EQ(ivan->user, "ivan");
    EXPECT_EQ(ivan->role->name, "user");
    EXPECT_EQ(a->identify("guess", std::nullopt).error().code, errc::unauthenticated);
    EXPECT_EQ(a->identify(std::nullopt, std::nullopt).error().code, errc::unauthenticated);
    auto local = a->identify(std::nullopt, std::string("jan"));
    ASSERT_TRUE(local);
    EXPECT_EQ(local->user, "jan");
    EXPECT_TRUE(local->role->admin) << "the Unix socket peer gets local_role, admin by default";
}

TEST(Authority, WithoutTokensEveryoneIsLocal) {
    authority a;
    EXPECT_FALSE(a.enabled());
    auto who = a.identify(std::nullopt, std::nullopt);
    ASSERT_TRUE(who);
    EXPECT_TRUE(who->role->may_run_task("anything"));
}

TEST(Authority, ABadTokensFileIsReportedByLine) {
    auth_options o;
    o.tokens_file = temp_file("ivan:user:plaintext\nbob:nobody:" + hash_token("b") + "\n");
    auto a = authority::create(o);
    ASSERT_FALSE(a);
    EXPECT_NE(a.error().what().find(":1: expected USER:ROLE:sha256:HEX"), std::string::npos)
        << a.error().what();
    EXPECT_NE(a.error().what().find(":2: no role named 'nobody'"), std::string::npos) << a.error().what();
    o.tokens_file = "/nonexistent/tokens";
    EXPECT_FALSE(authority::create(o));
}

}  // namespace
}  // namespace corral::auth
