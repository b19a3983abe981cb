#include "net/endpoint.hpp"

#include <charconv>

#include <fmt/format.h>

namespace corral::sockets {

result_info<endpoint> parse_endpoint(std::string_view text) {
    namespace ip = boost::asio::ip;
    if (text.starts_with("unix:")) {
        auto path = text.substr(5);
        if (path.empty() || path.size() >= 108) {
            return error_info{errc::invalid_argument,
                              fmt::format("'{}': a Unix socket path must have 1 to 107 bytes", text)};
        }
        return endpoint{boost::asio::local::stream_protocol::endpoint(std::string(path))};
    }
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        return error_info{
            errc::invalid_argument,
            fmt::format("'{}': expected HOST:PORT (such as 127.0.0.1:8470) or unix:PATH", text)};
    }
    auto host = text.substr(0, colon);
    auto port_text = text.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
        return error_info{errc::invalid_argument,
                          fmt::format("'{}': the port must be a number 0-65535", text)};
    }
    if (host.starts_with('[') && host.ends_with(']')) {
        host = host.substr(1, host.size() - 2);
    }
    if (host == "localhost") {
        host = "127.0.0.1";
    }
    boost::system::error_code aec;
    auto address = ip::make_address(std::string(host), aec);
    if (aec) {
        return error_info{
            errc::invalid_argument,
            fmt::format(
                "'{}': '{}' is not an IP address (names other than localhost are not resolved)", text, host)};
    }
    return endpoint{ip::tcp::endpoint(address, static_cast<unsigned short>(port))};
}

}  // namespace corral::sockets
