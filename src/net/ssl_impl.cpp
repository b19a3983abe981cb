// Asio's TLS support, compiled once (library corral_tls) for the daemon's listeners and the CLI.
#include <boost/asio/ssl/impl/src.hpp>
