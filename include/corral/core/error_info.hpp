#pragma once

#include <string>

#include <boost/assert/source_location.hpp>
#include <boost/system/system_error.hpp>

#include "corral/core/error.hpp"

namespace corral {

/// An error code with a human-readable explanation for the user, e.g.
/// `spawn_failed: chdir to '/nope': No such file or directory`.
struct error_info {
    boost::system::error_code code;
    std::string message;

    std::string what() const { return message.empty() ? code.message() : message; }
};

/// Like result<T> but carries a specific message; used where "which file, which stage" matters.
/// Lets result_info<T>::value() throw: a system_error carrying the code and the message.
[[noreturn]] inline void throw_exception_from_error(const error_info& e, const boost::source_location&) {
    throw boost::system::system_error(e.code, e.message);
}

template <class T>
using result_info = boost::system::result<T, error_info>;

}  // namespace corral
