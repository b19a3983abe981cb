#include "front/full_client.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace corral::cli::front {

int exec_full_client(char** argv) {
    std::string tried;
    const auto try_exec = [&](const std::string& path) {
        ::execv(path.c_str(), argv);
        tried += (tried.empty() ? "" : ", ") + path + " (" + std::strerror(errno) + ")";
    };
    if (const char* chosen = std::getenv("CORRAL_CLIENT"); chosen && *chosen) {
        try_exec(chosen);
    } else {
        char self[4096];
        const auto n = ::readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
            std::string beside(self, static_cast<std::size_t>(n));
            beside.resize(beside.rfind('/') + 1);
            try_exec(beside + CORRAL_CLIENT_RELATIVE_TO_BIN);
        }
        try_exec(CORRAL_CLIENT_BUILD_PATH);
    }
    std::fprintf(stderr, "corral: cannot run the full client (corral-client); tried %s\n", tried.c_str());
    return 127;
}

}  // namespace corral::cli::front
