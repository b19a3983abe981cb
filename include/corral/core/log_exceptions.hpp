#pragma once

#include <exception>
#include <string_view>

namespace corral {

/// A completion handler for co_spawn that logs an escaped exception instead of swallowing it
/// (no bare `detached`: DESIGN.md runtime model).
struct log_exceptions {
    std::string_view what;
    void operator()(std::exception_ptr e) const;
};

}  // namespace corral
