// Where corrald finds its web page when the config names none.
#include <unistd.h>

#include <array>
#include <filesystem>
#include <system_error>

#include "corral/pod/daemon_config.hpp"

namespace corral::pod {
namespace {

namespace fs = std::filesystem;

bool has_page(const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(dir / "index.html", ec);
}

}  // namespace

std::string default_web_root() {
    // Installed: bin/corrald beside share/corral/web, wherever the prefix was moved to.
    std::array<char, 4096> self{};
    const auto n = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
    if (n > 0) {
        const auto beside = fs::path(std::string(self.data(), static_cast<std::size_t>(n))).parent_path() /
                            CORRAL_WEB_RELATIVE_TO_BIN;
        if (has_page(beside)) {
            return fs::weakly_canonical(beside).string();
        }
    }
    // Built but not installed: the page the build assembled (web/CMakeLists.txt).
    if (has_page(CORRAL_WEB_BUILD_DIR)) {
        return CORRAL_WEB_BUILD_DIR;
    }
    return {};
}

}  // namespace corral::pod
