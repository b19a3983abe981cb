#include "corral/auth/authority.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace corral::auth {
namespace {

/// The built-in admin role, and what the admin token holds whatever roles the config defines.
const role_policy& admin_policy() {
    static const role_policy admin{.name = "admin",
                                   .priority = 2,
                                   .set_priority = true,
                                   .tasks = {"*"},
                                   .commands = true,
                                   .see_all = true,
                                   .kill_all = true,
                                   .admin = true};
    return admin;
}

std::map<std::string, role_policy, std::less<>> builtin_roles() {
    std::map<std::string, role_policy, std::less<>> roles;
    roles["admin"] = admin_policy();
    roles["user"] = {.name = "user", .priority = 4, .tasks = {"*"}, .commands = true};
    return roles;
}

error_info system_error(std::string_view what, const std::string& path) {
    const int e = errno;
    return {boost::system::error_code(e, boost::system::system_category()),
            fmt::format("{} '{}': {}", what, path, std::strerror(e))};
}

std::array<std::int64_t, 4> file_identity(const struct stat& st) {
    return {static_cast<std::int64_t>(st.st_dev),
            static_cast<std::int64_t>(st.st_ino),
            static_cast<std::int64_t>(st.st_size),
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

}  // namespace

std::string hash_token(std::string_view token) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(token.data(), token.size(), digest, &size, EVP_sha256(), nullptr);
    std::string out = "sha256:";
    for (unsigned i = 0; i < size; ++i) {
        out += fmt::format("{:02x}", digest[i]);
    }
    return out;
}

std::string admin_token_path(const std::string& state_dir) {
    return state_dir + "/admin.token";
}

result_info<std::string> ensure_admin_token(const std::string& path, bool rotate) {
    if (!rotate) {
        std::ifstream in(path);
        std::string token;
        if (in && std::getline(in, token) && !trim(token).empty()) {
            return std::string(trim(token));
        }
        if (::access(path.c_str(), F_OK) == 0 && !in) {
            return system_error("cannot read the admin token", path);
        }
    }
    unsigned char bytes[32];
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
        return system_error("no randomness for the admin token", path);
    }
    std::string token;
    for (unsigned char b : bytes) {
        token += fmt::format("{:02x}", b);
    }
    // Written whole under another name and renamed: a reader sees the old token or the new one.
    const auto temp = path + ".new";
    ::unlink(temp.c_str());
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return system_error("cannot write the admin token", temp);
    }
    const auto line = token + "\n";
    const bool written =
        ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written || ::rename(temp.c_str(), path.c_str()) != 0) {
        auto e = system_error("cannot write the admin token", path);
        ::unlink(temp.c_str());
        return e;
    }
    return token;
}

authority::authority() {
    options_.roles = builtin_roles();
    share_roles();
}

void authority::share_roles() {
    roles_.clear();
    for (const auto& [name, policy] : options_.roles) {
        roles_.emplace(name, std::make_shared<const role_policy>(policy));
    }
}

result_info<void> authority::use_admin_token(std::string path, std::string user) {
    admin_ = {std::move(path), std::move(user), {}, {}};
    refresh_admin_token();
    if (admin_.digest.empty()) {
        return error_info{errc::invalid_argument,
                          fmt::format("the admin token file '{}' holds no token", admin_.path)};
    }
    return {};
}

void authority::refresh_admin_token() const {
    struct stat st {};
    if (::stat(admin_.path.c_str(), &st) != 0) {
        admin_.digest.clear();  // removed: the admin token is no longer accepted
        admin_.seen = {};
        return;
    }
    if (file_identity(st) == admin_.seen) {
        return;
    }
    std::ifstream in(admin_.path);
    std::string token;
    admin_.digest.clear();
    if (in && std::getline(in, token) && !trim(token).empty()) {
        admin_.digest = hash_token(trim(token));
    }
    admin_.seen = file_identity(st);
}

result_info<authority> authority::create(auth_options options) {
    authority a;
    if (options.roles.empty()) {
        options.roles = builtin_roles();
    }
    a.options_ = std::move(options);
    std::vector<std::string> problems;
    auto need_role = [&](std::string_view what, const std::string& name) {
        if (!name.empty() && !a.options_.roles.count(name)) {
            problems.push_back(fmt::format("{}: no role named '{}'", what, name));
        }
    };
    if (a.options_.local_role.empty()) {
        problems.push_back(
            "auth.local_role: must name a role (the Unix socket's peers get it; \"admin\" by default)");
    }
    need_role("auth.local_role", a.options_.local_role);
    need_role("auth.anonymous_role", a.options_.anonymous_role);
    if (!a.options_.tokens_file.empty()) {
        std::ifstream in(a.options_.tokens_file);
        if (!in) {
            return error_info{errc::invalid_argument,
                              fmt::format("auth.tokens_file: cannot read '{}'", a.options_.tokens_file)};
        }
        std::string line;
        for (int n = 1; std::getline(in, line); ++n) {
            const auto text = trim(line);
            if (text.empty() || text.front() == '#') {
                continue;
            }
            const auto where = fmt::format("{}:{}", a.options_.tokens_file, n);
            const auto first = text.find(':');
            const auto second = first == std::string_view::npos ? first : text.find(':', first + 1);
            const auto digest =
                second == std::string_view::npos ? std::string_view() : text.substr(second + 1);
            if (!digest.starts_with("sha256:") || digest.size() != 7 + 64 || first == 0) {
                problems.push_back(fmt::format(
                    "{}: expected USER:ROLE:sha256:HEX (make the hash with corrald hash-token)", where));
                continue;
            }
            token_entry e{std::string(text.substr(0, first)),
                          std::string(text.substr(first + 1, second - first - 1))};
            need_role(where, e.role);
            if (!a.by_digest_.emplace(std::string(digest), std::move(e)).second) {
                problems.push_back(fmt::format("{}: the same token is listed twice", where));
            }
        }
    }
    if (!problems.empty()) {
        return error_info{errc::invalid_argument, fmt::format("{}", fmt::join(problems, "\n"))};
    }
    a.share_roles();
    return a;
}

std::shared_ptr<const role_policy> authority::role(std::string_view name) const {
    auto it = roles_.find(name);
    return it == roles_.end() ? nullptr : it->second;
}

result_info<identity> authority::identify(std::optional<std::string_view> token,
                                          const std::optional<std::string>& local_user) const {
    // A role that is not there (create() refuses such configs) is a refusal, never a null role.
    auto as = [](std::string user, std::shared_ptr<const role_policy> r) -> result_info<identity> {
        if (!r) {
            return error_info{errc::unauthenticated, "the caller's role is not defined"};
        }
        return identity{std::move(user), std::move(r)};
    };
    if (token) {
        const auto digest = hash_token(*token);
        if (!admin_.path.empty()) {
            refresh_admin_token();
            if (!admin_.digest.empty() && digest == admin_.digest) {
                static const auto admin = std::make_shared<const role_policy>(admin_policy());
                return identity{admin_.user, admin};
            }
        }
        auto it = by_digest_.find(digest);
        if (it == by_digest_.end()) {
            // Often another corrald's admin token (the CLI reads this host's own for a loopback
            // URL): say where the right one comes from.
            return error_info{errc::unauthenticated,
                              "the token is not valid: `corrald token` prints this corrald's admin token "
                              "(with -c its config file)"};
        }
        return as(it->second.user, role(it->second.role));
    }
    if (local_user) {
        return as(*local_user, role(options_.local_role));
    }
    if (!options_.anonymous_role.empty()) {
        return as("anonymous", role(options_.anonymous_role));
    }
    return error_info{errc::unauthenticated,
                      "authentication required: send Authorization: Bearer TOKEN (or ?token=TOKEN); "
                      "`corrald token` prints the admin token"};
}

}  // namespace corral::auth
