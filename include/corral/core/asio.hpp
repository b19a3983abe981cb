#pragma once
// Narrow Asio includes and the names every corral file uses for them.
// Never include <boost/asio.hpp> from a header: it makes every TU parse all of Asio.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace corral {

namespace net = boost::asio;

/// Completion token for expected I/O outcomes: `auto [ec, n] = co_await op(..., use_nothrow);`
inline constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

}  // namespace corral
