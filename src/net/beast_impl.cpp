// Beast, compiled once (BOOST_BEAST_SEPARATE_COMPILATION) for the daemon and the CLI.
// Asio itself is compiled in ../boost_impl.cpp as part of libcorral.
#include <boost/beast/src.hpp>
