#pragma once

#include <cstddef>
#include <string>

namespace corral {

/// `bytes` random bytes from the kernel (getrandom), as lower-case hex: ids that a client shows
/// back to resume something (a subscription, a long-poll session's cookie), so they must not be
/// guessable. Safe in a cookie, a URL and a file name.
std::string random_id(std::size_t bytes = 16);

}  // namespace corral
