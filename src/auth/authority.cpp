#include "corral/auth/authority.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

namespace corral::auth {
namespace {

std::map<std::string, role_policy, std::less<>> builtin_roles() {
    std::map<std::string, role_policy, std::less<>> roles;
    roles["admin"] = {.name = "admin",
                      .priority = 2,
                      .set_priority = true,
                      .tasks = {"*"},
                      .commands = true,
                      .see_all = true,
                      .kill_all = true,
                      .admin = true};
    roles["user"] = {.name = "user", .priority = 4, .tasks = {"*"}, .commands = true};
    return roles;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

}  // namespace

bool role_policy::may_run_task(std::string_view task) const {
    return admin || std::any_of(tasks.begin(), tasks.end(), [&](const std::string& t) {
               return t == "*" || t == task;
           });
}

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

authority::authority() {
    options_.roles = builtin_roles();
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
    need_role("auth.local_role", a.options_.local_role);
    need_role("auth.anonymous_role", a.options_.anonymous_role);
    if (!a.options_.tokens_file.empty()) {
        a.enabled_ = true;
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
    return a;
}

const role_policy* authority::role(std::string_view name) const {
    auto it = options_.roles.find(name);
    return it == options_.roles.end() ? nullptr : &it->second;
}

result_info<identity> authority::identify(std::optional<std::string_view> token,
                                          const std::optional<std::string>& local_user) const {
    if (!enabled_) {
        static const role_policy local{.name = "local",
                                       .priority = 4,
                                       .set_priority = true,
                                       .tasks = {"*"},
                                       .commands = true,
                                       .see_all = true,
                                       .kill_all = true,
                                       .admin = true};
        return identity{local_user.value_or("anonymous"), &local};
    }
    if (token) {
        auto it = by_digest_.find(hash_token(*token));
        if (it == by_digest_.end()) {
            return error_info{errc::unauthenticated, "the token is not valid"};
        }
        return identity{it->second.user, role(it->second.role)};
    }
    if (local_user) {
        return identity{*local_user, role(options_.local_role)};
    }
    if (!options_.anonymous_role.empty()) {
        return identity{"anonymous", role(options_.anonymous_role)};
    }
    return error_info{errc::unauthenticated,
                      "authentication required: send Authorization: Bearer TOKEN (or ?token=TOKEN)"};
}

}  // namespace corral::auth
