// ASEXOR's call, reply, error and update messages, and their CBOR form for the raw socket.
#include "corral/proto/asexor_message.hpp"

#include <cbor.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace corral::proto::asexor {
namespace json = boost::json;
namespace {

/// Python's name for the type a JSON value decodes to, for its error messages.
std::string_view python_type(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return "NoneType";
        case json::kind::bool_:
            return "bool";
        case json::kind::int64:
        case json::kind::uint64:
            return "int";
        case json::kind::double_:
            return "float";
        case json::kind::string:
            return "str";
        case json::kind::array:
            return "list";
        case json::kind::object:
            return "dict";
    }
    return "object";
}

/// Python's falsy values: `payload.get('args') or ()` turns them into the empty default.
bool falsy(const json::value& v) {
    return v.is_null() || (v.is_bool() && !v.as_bool()) || (v.is_int64() && v.as_int64() == 0) ||
           (v.is_uint64() && v.as_uint64() == 0) || (v.is_double() && v.as_double() == 0) ||
           (v.is_string() && v.as_string().empty()) || (v.is_array() && v.as_array().empty()) ||
           (v.is_object() && v.as_object().empty());
}

std::optional<std::string> optional_text(const json::object& payload, std::string_view key) {
    auto it = payload.find(key);
    if (it == payload.end() || falsy(it->value())) {
        return std::nullopt;
    }
    if (it->value().is_string()) {
        return std::string(it->value().as_string());
    }
    return json::serialize(it->value());
}

}  // namespace

void throw_exception_from_error(const call_error& e, const boost::source_location&) {
    throw std::invalid_argument(e.message);
}

boost::system::result<call_message, call_error> parse_call(const json::value& message, bool delegated) {
    // `call_id, task_name, payload = data`: a list (or a dict, whose keys Python would unpack) of
    // exactly three.
    std::size_t count = 0;
    std::optional<json::value> call_id;
    if (message.is_array()) {
        count = message.as_array().size();
        if (count > 0) {
            call_id = message.as_array()[0];
        }
    } else if (message.is_object()) {
        count = message.as_object().size();
    } else if (message.is_string()) {
        count = message.as_string().size();
    } else {
        return call_error{fmt::format("cannot unpack non-iterable {} object", python_type(message)), std::nullopt};
    }
    if (count < 3) {
        return call_error{fmt::format("not enough values to unpack (expected 3, got {})", count), call_id};
    }
    if (count > 3) {
        return call_error{"too many values to unpack (expected 3)", call_id};
    }
    if (!message.is_array()) {
        return call_error{"Invalid message", call_id};
    }
    const auto& items = message.as_array();
    const auto& payload = items[2];
    if (!payload.is_object()) {
        return call_error{fmt::format("'{}' object has no attribute 'get'", python_type(payload)), call_id};
    }
    const auto& p = payload.as_object();
    call_message call;
    call.call_id = items[0];
    call.task = items[1];
    // `args` must be a list and `kwargs` a dict once falsy ones are defaults (ASEXOR asserts it).
    if (auto it = p.find("args"); it != p.end() && !falsy(it->value())) {
        if (!it->value().is_array()) {
            return call_error{"Invalid message", call_id};
        }
        call.args = it->value().as_array();
    }
    if (auto it = p.find("kwargs"); it != p.end() && !falsy(it->value())) {
        if (!it->value().is_object()) {
            return call_error{"Invalid message", call_id};
        }
        call.kwargs = it->value().as_object();
    }
    if (delegated) {
        call.user = optional_text(p, "user");
        call.role = optional_text(p, "role");
    }
    return call;
}

json::value reply_message(const json::value& call_id, std::int64_t task_id) {
    return json::array{"r", call_id, task_id};
}

json::value error_message(const json::value& call_id, std::string_view message) {
    return json::array{"e", call_id, message, nullptr};
}

json::value update_message(const json::value& call_id, json::object data) {
    return json::array{"m", call_id, std::move(data)};
}

// ---- CBOR ----------------------------------------------------------------------------------

namespace {

struct item_deleter {
    void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using item_ptr = std::unique_ptr<cbor_item_t, item_deleter>;

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        if (n == 0 || i + n > s.size() || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4)) {
            return false;
        }
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) {
                return false;
            }
        }
        const auto c1 = n > 1 ? static_cast<unsigned char>(s[i + 1]) : 0;
        if ((n == 3 && c == 0xe0 && c1 < 0xa0) || (n == 3 && c == 0xed && c1 >= 0xa0) ||
            (n == 4 && c == 0xf0 && c1 < 0x90) || (n == 4 && c == 0xf4 && c1 >= 0x90)) {
            return false;  // overlong, a surrogate, or past U+10FFFF
        }
        i += n;
    }
    return true;
}

/// A text string must be UTF-8: bytes a client sent that are not go back as bytes.
item_ptr build_text(std::string_view s) {
    if (!valid_utf8(s)) {
        return item_ptr(cbor_build_bytestring(reinterpret_cast<cbor_data>(s.data()), s.size()));
    }
    return item_ptr(cbor_build_stringn(s.data(), s.size()));
}

/// The shortest encoding of an unsigned integer, as CBOR's canonical form (and Python's cbor) has it.
item_ptr build_uint(std::uint64_t n) {
    if (n <= 0xff) {
        return item_ptr(cbor_build_uint8(static_cast<std::uint8_t>(n)));
    }
    if (n <= 0xffff) {
        return item_ptr(cbor_build_uint16(static_cast<std::uint16_t>(n)));
    }
    if (n <= 0xffffffff) {
        return item_ptr(cbor_build_uint32(static_cast<std::uint32_t>(n)));
    }
    return item_ptr(cbor_build_uint64(n));
}

item_ptr build(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return item_ptr(cbor_build_ctrl(CBOR_CTRL_NULL));
        case json::kind::bool_:
            return item_ptr(cbor_build_bool(v.as_bool()));
        case json::kind::int64: {
            const auto n = v.as_int64();
            if (n >= 0) {
                return build_uint(static_cast<std::uint64_t>(n));
            }
            auto item = build_uint(static_cast<std::uint64_t>(-(n + 1)));
            cbor_mark_negint(item.get());
            return item;
        }
        case json::kind::uint64:
            return build_uint(v.as_uint64());
        case json::kind::double_:
            return item_ptr(cbor_build_float8(v.as_double()));
        case json::kind::string:
            return build_text(v.as_string());
        case json::kind::array: {
            const auto& a = v.as_array();
            item_ptr array(cbor_new_definite_array(a.size()));
            for (const auto& e : a) {
                auto child = build(e);
                if (!cbor_array_push(array.get(), child.get())) {
                    throw std::bad_alloc();
                }
            }
            return array;
        }
        case json::kind::object: {
            const auto& o = v.as_object();
            item_ptr map(cbor_new_definite_map(o.size()));
            for (const auto& [key, value] : o) {
                auto k = build_text(key);
                auto val = build(value);
                if (!cbor_map_add(map.get(), cbor_pair{k.get(), val.get()})) {
                    throw std::bad_alloc();
                }
            }
            return map;
        }
    }
    return item_ptr(cbor_build_ctrl(CBOR_CTRL_NULL));
}

/// Reads a libcbor item into JSON, counting items and depth against the limits.
class reader {
  public:
    explicit reader(const cbor_limits& limits) : limits_(limits) {}

    result_info<json::value> read(const cbor_item_t* item, std::size_t depth) {
        if (depth > limits_.max_depth) {
            return fail(fmt::format("nested deeper than {} levels", limits_.max_depth));
        }
        switch (cbor_typeof(item)) {
            case CBOR_TYPE_UINT:
                return json::value(cbor_get_int(item));
            case CBOR_TYPE_NEGINT: {
                const auto n = cbor_get_int(item);  // the value is -1 - n
                if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                    return fail("a negative integer below the 64-bit range");
                }
                return json::value(-1 - static_cast<std::int64_t>(n));
            }
            case CBOR_TYPE_BYTESTRING:
            case CBOR_TYPE_STRING:
                return text(item);
            case CBOR_TYPE_ARRAY:
                return array(item, depth);
            case CBOR_TYPE_MAP:
                return map(item, depth);
            case CBOR_TYPE_TAG:
                return fail("tagged items are not used by this protocol");
            case CBOR_TYPE_FLOAT_CTRL:
                return simple(item);
        }
        return fail("an unknown item type");
    }

  private:
    static result_info<json::value> fail(std::string why) {
        return error_info{errc::invalid_argument, "CBOR: " + std::move(why)};
    }

    result_info<json::value> text(const cbor_item_t* item) {
        std::string out;
        if (cbor_isa_string(item) ? cbor_string_is_definite(item) : cbor_bytestring_is_definite(item)) {
            const auto* data = cbor_isa_string(item) ? cbor_string_handle(item) : cbor_bytestring_handle(item);
            const auto size = cbor_isa_string(item) ? cbor_string_length(item) : cbor_bytestring_length(item);
            out.assign(reinterpret_cast<const char*>(data), size);
        } else {
            const auto n = cbor_isa_string(item) ? cbor_string_chunk_count(item) : cbor_bytestring_chunk_count(item);
            auto* const* chunks = cbor_isa_string(item) ? cbor_string_chunks_handle(item) : cbor_bytestring_chunks_handle(item);
            for (std::size_t i = 0; i < n; ++i) {
                if (auto r = text(chunks[i]); r) {
                    out += r->as_string();
                } else {
                    return r;
                }
            }
        }
        return json::value(json::string(out));
    }

    result_info<json::value> array(const cbor_item_t* item, std::size_t depth) {
        const auto n = cbor_array_size(item);
        if (auto bad = count(n)) {
            return *bad;
        }
        json::array out;
        out.reserve(n);
        auto* const* items = cbor_array_handle(item);
        for (std::size_t i = 0; i < n; ++i) {
            auto v = read(items[i], depth + 1);
            if (!v) {
                return v;
            }
            out.push_back(std::move(*v));
        }
        return json::value(std::move(out));
    }

    result_info<json::value> map(const cbor_item_t* item, std::size_t depth) {
        const auto n = cbor_map_size(item);
        if (auto bad = count(n)) {
            return *bad;
        }
        json::object out;
        auto* pairs = cbor_map_handle(item);
        for (std::size_t i = 0; i < n; ++i) {
            if (!cbor_isa_string(pairs[i].key) && !cbor_isa_bytestring(pairs[i].key)) {
                return fail("a map key that is not text");
            }
            auto key = text(pairs[i].key);
            auto value = read(pairs[i].value, depth + 1);
            if (!key) {
                return key;
            }
            if (!value) {
                return value;
            }
            out[key->as_string()] = std::move(*value);
        }
        return json::value(std::move(out));
    }

    result_info<json::value> simple(const cbor_item_t* item) {
        if (cbor_float_ctrl_is_ctrl(item)) {
            switch (cbor_ctrl_value(item)) {
                case CBOR_CTRL_TRUE:
                    return json::value(true);
                case CBOR_CTRL_FALSE:
                    return json::value(false);
                case CBOR_CTRL_NULL:
                    return json::value(nullptr);
                default:
                    return fail(fmt::format("the simple value {}", cbor_ctrl_value(item)));
            }
        }
        return json::value(cbor_float_get_float(item));
    }

    std::optional<result_info<json::value>> count(std::size_t n) {
        items_ += n;
        if (items_ > limits_.max_items) {
            return fail(fmt::format("more than {} items", limits_.max_items));
        }
        return std::nullopt;
    }

    const cbor_limits& limits_;
    std::size_t items_ = 0;
};

/// The arrays and maps a message declares must fit in it: every item is one container's direct
/// child and takes a byte at least, so all declared items together are at most the message's size.
/// libcbor allocates a declared size before it reads the items, so five bytes could otherwise ask
/// for gigabytes. Checked with libcbor's own streaming decoder, before cbor_load.
struct size_check {
    std::size_t declared = 0;
    std::size_t budget = 0;
};

bool declared_sizes_fit(std::string_view bytes) {
    cbor_callbacks callbacks = cbor_empty_callbacks;
    callbacks.array_start = [](void* ctx, std::size_t n) {
        auto* c = static_cast<size_check*>(ctx);
        c->declared += std::min(n, c->budget + 1);
    };
    callbacks.map_start = [](void* ctx, std::size_t n) {
        auto* c = static_cast<size_check*>(ctx);
        c->declared += 2 * std::min(n, c->budget + 1);
    };
    size_check check{0, bytes.size()};
    for (std::size_t at = 0; at < bytes.size() && check.declared <= check.budget;) {
        const auto r = cbor_stream_decode(
            reinterpret_cast<const unsigned char*>(bytes.data() + at), bytes.size() - at, &callbacks, &check);
        if (r.status != CBOR_DECODER_FINISHED || r.read == 0) {
            break;  // malformed or truncated: cbor_load says so
        }
        at += r.read;
    }
    return check.declared <= check.budget;
}

}  // namespace

std::string to_cbor(const json::value& v) {
    auto item = build(v);
    unsigned char* buffer = nullptr;
    std::size_t size = 0;
    const auto length = cbor_serialize_alloc(item.get(), &buffer, &size);
    std::unique_ptr<unsigned char, decltype(&std::free)> owned(buffer, &std::free);
    if (length == 0) {
        throw std::bad_alloc();
    }
    return std::string(reinterpret_cast<const char*>(buffer), length);
}

result_info<json::value> from_cbor(std::string_view bytes, const cbor_limits& limits) {
    if (!declared_sizes_fit(bytes)) {
        return error_info{errc::invalid_argument, "CBOR: an array or map declares more items than the message holds"};
    }
    cbor_load_result loaded{};
    item_ptr item(cbor_load(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), &loaded));
    if (!item || loaded.error.code != CBOR_ERR_NONE) {
        static constexpr const char* why[] = {
            "", "not enough data", "no data", "malformed", "out of memory", "malformed (or text that is not UTF-8)"};
        const auto code = static_cast<std::size_t>(loaded.error.code);
        return error_info{errc::invalid_argument,
                          fmt::format("CBOR: {} at byte {}",
                                      code < std::size(why) ? why[code] : "cannot be read",
                                      loaded.error.position)};
    }
    if (loaded.read != bytes.size()) {
        return error_info{errc::invalid_argument,
                          fmt::format("CBOR: {} bytes after the message", bytes.size() - loaded.read)};
    }
    return reader(limits).read(item.get(), 0);
}

}  // namespace corral::proto::asexor
