#include "corral/net/peer_user.hpp"

#include <pwd.h>

#include <chrono>
#include <unordered_map>

#include <fmt/format.h>

#include "corral/core/blocking_work.hpp"

namespace corral::sockets {

net::awaitable<std::optional<std::string>> local_user(const peer& who, net::any_io_executor blocking) {
    if (!who.uid) {
        co_return std::nullopt;
    }
    // Remembered for a minute: a lookup reads /etc/nsswitch.conf and /etc/passwd, and the CLI makes
    // a connection per command. A renamed user shows under the new name a minute later at most.
    struct known {
        std::string name;
        std::chrono::steady_clock::time_point until;
    };
    thread_local std::unordered_map<uid_t, known> names;
    if (auto it = names.find(*who.uid); it != names.end() && std::chrono::steady_clock::now() < it->second.until) {
        co_return it->second.name;
    }
    // Through NSS, which may ask LDAP or a remote directory and take seconds: not on the core's thread.
    const uid_t uid = *who.uid;
    auto lookup = [uid] {
        passwd pw{};
        passwd* found = nullptr;
        char buffer[1024];
        return ::getpwuid_r(uid, &pw, buffer, sizeof buffer, &found) == 0 && found ? std::string(found->pw_name)
                                                                                  : fmt::format("uid:{}", uid);
    };
    // Named first: g++ 12 miscompiles temporaries inside a co_await expression.
    std::string name = co_await run_blocking(std::move(blocking), std::move(lookup));
    if (names.size() >= 1024) {  // bounded: uids are few, but a host could have many
        names.clear();
    }
    names[uid] = {name, std::chrono::steady_clock::now() + std::chrono::minutes(1)};
    co_return name;
}

}  // namespace corral::sockets
