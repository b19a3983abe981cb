#include "corral/core/random_id.hpp"

#include <sys/random.h>

#include <vector>

namespace corral {

std::string random_id(std::size_t bytes) {
    std::vector<unsigned char> raw(bytes);
    std::size_t got = 0;
    while (got < raw.size()) {
        const auto n = ::getrandom(raw.data() + got, raw.size() - got, 0);
        if (n > 0) {
            got += static_cast<std::size_t>(n);
        }
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string id;
    id.reserve(2 * bytes);
    for (unsigned char b : raw) {
        id += digits[b >> 4];
        id += digits[b & 0xf];
    }
    return id;
}

}  // namespace corral
