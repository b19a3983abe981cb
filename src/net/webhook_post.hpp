#pragma once
// One HTTP(S) POST from the daemon, for finish hooks: a JSON body to a URL, under a time limit, the
// reply's status back. A client of its own (not the CLI's): it must never wait without a bound,
// and reads at most a small reply.

#include "corral/services/http_post.hpp"

namespace corral::http {

/// Posts `r.body` as application/json. Returns the reply's status code (whatever it is). Errors:
/// errc::invalid_argument for a URL it cannot use; net::error::timed_out; the network's and TLS's
/// own errors (the server's certificate is checked against the system's CAs and the URL's host).
net::awaitable<result_info<unsigned>> post_json(net::any_io_executor executor, post_request r);

}  // namespace corral::http
