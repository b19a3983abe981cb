// Asio's TLS support, compiled once for the daemon's listeners.
#include <boost/asio/ssl/impl/src.hpp>
