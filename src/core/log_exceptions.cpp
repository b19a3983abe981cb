#include "corral/core/log_exceptions.hpp"

#include <spdlog/spdlog.h>

namespace corral {

void log_exceptions::operator()(std::exception_ptr e) const {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        spdlog::error("{}: {}", what, ex.what());
    } catch (...) {
        spdlog::error("{}: unknown exception", what);
    }
}

}  // namespace corral
