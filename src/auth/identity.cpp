#include "corral/auth/identity.hpp"

#include <algorithm>

namespace corral::auth {

bool role_policy::may_run_task(std::string_view task) const {
    return admin || std::any_of(tasks.begin(), tasks.end(), [&](const std::string& t) {
               return t == "*" || t == task;
           });
}

}  // namespace corral::auth
