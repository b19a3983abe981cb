#include "corral/auth/authority.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

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
    o.anonymous_role = "user";
    auto open = authority::create(o);
    ASSERT_TRUE(open);
    auto anonymous = open->identify(std::nullopt, std::nullopt);
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->role->name, "user");
}

TEST(Authority, WithoutTokensTcpCallersAreRefusedAndSocketPeersAreAdmins) {
    authority a;
    auto tcp = a.identify(std::nullopt, std::nullopt);
    ASSERT_FALSE(tcp) << "being on loopback is no credential";
    EXPECT_EQ(tcp.error().code, errc::unauthenticated);
    EXPECT_NE(tcp.error().what().find("corrald token"), std::string::npos) << tcp.error().what();
    auto local = a.identify(std::nullopt, std::string("jan"));
    ASSERT_TRUE(local);
    EXPECT_TRUE(local->role->admin);
}

TEST(Authority, AnEmptyLocalRoleIsRefused) {
    auth_options o;
    o.local_role = "";
    auto a = authority::create(o);
    ASSERT_FALSE(a);
    EXPECT_NE(a.error().what().find("auth.local_role: must name a role"), std::string::npos)
        << a.error().what();
}

TEST(Authority, TheAdminTokenIsMadeOnceOwnerOnlyAndRotatedAtOnce) {
    char dir[] = "/tmp/corral-admin-XXXXXX";
    ASSERT_TRUE(::mkdtemp(dir));
    const auto path = admin_token_path(dir);
    auto first = ensure_admin_token(path);
    ASSERT_TRUE(first) << first.error().what();
    EXPECT_EQ(first->size(), 64u);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(*ensure_admin_token(path), *first) << "made once, then read";

    authority a;
    ASSERT_TRUE(a.use_admin_token(path, "corral"));
    auto admin = a.identify(*first, std::nullopt);
    ASSERT_TRUE(admin);
    EXPECT_EQ(admin->user, "corral");
    EXPECT_TRUE(admin->role->admin);

    auto second = ensure_admin_token(path, true);
    ASSERT_TRUE(second);
    EXPECT_NE(*second, *first);
    EXPECT_EQ(a.identify(*first, std::nullopt).error().code, errc::unauthenticated)
        << "the old token stops working without a restart";
    EXPECT_TRUE(a.identify(*second, std::nullopt));
    std::filesystem::remove_all(dir);
    EXPECT_FALSE(a.identify(*second, std::nullopt)) << "no file, no admin token";
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
