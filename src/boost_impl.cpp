// The one translation unit that compiles Asio (BOOST_ASIO_SEPARATE_COMPILATION): every other file
// includes only Asio's declarations, which keeps the 2-core CI build fast (research/stack-probe.md §2).
#include <boost/asio/impl/src.hpp>
