#pragma once
// ASEXOR's messages (research/seeds-inventory.md §4.2), the same on every transport: JSON on
// WebSocket, long-poll and WAMP, CBOR on the raw socket.
//   call    [call_id, task_name, {"args": [...], "kwargs": {...}}]   (client to server)
//   reply   ["r", call_id, task_id]
//   error   ["e", call_id, message, null]                            (never a stack trace)
//   update  ["m", call_id, {"status": ..., "task_id": ..., ...}]

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "corral/core/error_info.hpp"

namespace corral::proto::asexor {

/// A call: run `task` with these arguments. A delegated call (from a trusted proxy) names the
/// user and role it runs for.
struct call_message {
    boost::json::value call_id;
    boost::json::value task;  ///< the task's name; checked by whoever looks it up
    boost::json::array args;
    boost::json::object kwargs;
    std::optional<std::string> user;
    std::optional<std::string> role;
};

/// Why a call message cannot be used, in ASEXOR's words, and its call id when one could be read.
struct call_error {
    std::string message;
    std::optional<boost::json::value> call_id;
};

/// For boost::system::result: value() on an error throws the message.
[[noreturn]] void throw_exception_from_error(const call_error& e, const boost::source_location&);

/**
 * Reads a call message as ASEXOR does: exactly three items, the third an object whose `args` (a
 * list) and `kwargs` (an object) may be missing, null or empty. `delegated` also reads `user` and
 * `role`. Errors read as Python's would ("not enough values to unpack (expected 3, got 1)",
 * "Invalid message" for arguments of the wrong type), with the call id when the message has one.
 */
boost::system::result<call_message, call_error> parse_call(const boost::json::value& message, bool delegated = false);

boost::json::value reply_message(const boost::json::value& call_id, std::int64_t task_id);
boost::json::value error_message(const boost::json::value& call_id, std::string_view message);
boost::json::value update_message(const boost::json::value& call_id, boost::json::object data);

/// Limits for decoding CBOR from a client.
struct cbor_limits {
    std::size_t max_items = 1'000'000;  ///< array elements and map entries, all levels together
    std::size_t max_depth = 64;
};

/// A JSON value as CBOR (ASEXOR's raw socket): integers, floats, strings, arrays, maps, bools, null.
std::string to_cbor(const boost::json::value& v);

/**
 * CBOR from a client as a JSON value. Byte strings read as text (ASEXOR's Python 2-era clients may
 * send either); map keys must be text or bytes; integers must fit in 64 bits; tags, undefined and
 * other simple values are refused. Errors: errc::invalid_argument with the reason.
 */
result_info<boost::json::value> from_cbor(std::string_view bytes, const cbor_limits& limits = {});

}  // namespace corral::proto::asexor
