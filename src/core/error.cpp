#include "corral/core/error.hpp"

#include <string>

namespace corral {
namespace {

class category final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "corral"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::executable_not_found:
                return "executable not found";
            case errc::invalid_spec:
                return "invalid job spec";
            case errc::invalid_argument:
                return "invalid argument";
            case errc::spawn_failed:
                return "spawn failed";
            case errc::job_not_found:
                return "job not found";
            case errc::invalid_state:
                return "operation not possible in the job's state";
            case errc::unsupported:
                return "not supported on this host";
            case errc::queue_full:
                return "the queue is full";
            case errc::unauthenticated:
                return "not authenticated";
            case errc::forbidden:
                return "not allowed";
            case errc::task_not_found:
                return "no such task";
            case errc::store_failed:
                return "the durable store failed";
            case errc::subscription_not_found:
                return "no such subscription";
            case errc::process_not_found:
                return "no such named process";
            case errc::process_exists:
                return "already running";
            case errc::timed_out:
                return "timed out";
        }
        return "unknown corral error";
    }
};

}  // namespace

const boost::system::error_category& corral_category() noexcept {
    static const category instance;
    return instance;
}

}  // namespace corral
