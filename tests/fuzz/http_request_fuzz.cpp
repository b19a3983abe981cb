// The HTTP request path as a listener sees it: Beast's parser with corrald's limits, then the target
// parser, the Host/Origin guard and the Content-Type check. Nothing may crash, hang or leak.
#include <cstddef>
#include <cstdint>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "corral/proto/http_replies.hpp"
#include "corral/proto/request_guard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace http = boost::beast::http;
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(1 << 20);
    parser.eager(true);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(data, size), ec);
    if (ec || !parser.is_header_done()) {
        return 0;
    }
    const auto& req = parser.get();
    std::string error;
    (void)corral::proto::parse_target(req.target(), error);
    corral::http::peer tcp;
    tcp.address = "127.0.0.1:5000";
    tcp.local_ip = "127.0.0.1";
    corral::proto::guard_options options{.server_names = {"corral.example"},
                                         .cors_origins = {"http://127.0.0.1:5200"}};
    (void)corral::proto::guard_request(req, tcp, options);
    tcp.tls = true;
    (void)corral::proto::guard_request(req, tcp, options);
    (void)corral::proto::allowed_cross_origin(req, options);
    (void)corral::proto::has_content_type(req, "application/json");
    (void)corral::proto::accepts_gzip(req[http::field::accept_encoding]);
    return 0;
}
