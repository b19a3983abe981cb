// corrald's config validator on arbitrary TOML: every problem is reported, nothing crashes, and no
// file is made. The text is read through a memfd, as a file, the way corrald reads its config.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "corral/pod/daemon_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const int fd = ::memfd_create("corral-config", MFD_CLOEXEC);
    static const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
        return 0;
    }
    // Environment overrides go through the same validation.
    static const std::map<std::string, std::string> env{{"CORRAL_JOBS__CONCURRENCY", "3"}};
    (void)corral::pod::load_config(path, env);
    return 0;
}
