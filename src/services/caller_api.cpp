// The job service's calls made for a caller: every right is decided here (with job_access), so the
// adapters under src/proto and src/net translate requests and replies and decide nothing.
#include <fmt/format.h>

#include "corral/services/job_access.hpp"
#include "corral/services/job_service.hpp"

namespace corral::services {
namespace {

error_info no_job(jobs::job_id id) {
    return {errc::job_not_found, fmt::format("no job {}", id)};
}

}  // namespace

result_info<std::unique_ptr<job_service::pin>> job_service::find_as(const auth::identity& who, jobs::job_id id) {
    auto* j = find(id);
    // A job the caller may not see answers as one that does not exist.
    if (!j || !check_see(who, *j)) {
        return no_job(id);
    }
    return std::make_unique<pin>(*this, *j);
}

result_info<std::unique_ptr<job_service::pin>> job_service::control_as(const auth::identity& who,
                                                                       jobs::job_id id) {
    auto found = find_as(who, id);
    if (!found) {
        return found;
    }
    if (auto allowed = check_control(who, (*found)->get()); !allowed) {
        return allowed.error();
    }
    return found;
}

job_page job_service::list_as(const auth::identity& who, job_query query) {
    if (!sees_all(who)) {
        query.owner = who.user;
    }
    return list(query);
}

std::vector<jobs::job*> job_service::queue_as(const auth::identity& who, std::size_t limit) {
    std::vector<jobs::job*> waiting;
    for (const auto& q : scheduler_.snapshot(limit)) {
        auto* j = find(q.id);
        if (j && check_see(who, *j)) {
            waiting.push_back(j);
        }
    }
    return waiting;
}

result_info<void> job_service::kill_as(const auth::identity& who,
                                       jobs::job_id id,
                                       std::optional<int> signal,
                                       std::optional<proc::stop_plan> plan) {
    auto job = control_as(who, id);
    if (!job) {
        return job.error();
    }
    auto& j = (*job)->get();
    if (auto r = kill(j, signal, std::move(plan), who.user); !r) {
        return error_info{r.error(),
                          fmt::format("job {} is {}: there is nothing to kill", id, jobs::to_string(j.state))};
    }
    return {};
}

result_info<void> job_service::may_delegate(const auth::identity& who) const {
    return check_delegate(who);
}

result_info<void> job_service::may_administer(const auth::identity& who) const {
    return check_admin(who);
}

result_info<void> job_service::may_see_all(const auth::identity& who, std::string_view what) const {
    if (sees_all(who)) {
        return {};
    }
    return error_info{errc::forbidden,
                      fmt::format("role '{}' ({}) may not see {} (it takes see_all)", who.role->name, who.user, what)};
}

result_info<void> job_service::set_draining_as(const auth::identity& who, bool draining) {
    if (auto allowed = check_admin(who); !allowed) {
        return allowed;
    }
    set_draining(draining, who.user);
    return {};
}

net::awaitable<result_info<jobs::audit_page>> job_service::audit_trail_as(const auth::identity& who,
                                                                          jobs::job_id job,
                                                                          std::size_t limit,
                                                                          std::int64_t before) {
    if (auto allowed = check_admin(who); !allowed) {
        co_return allowed.error();
    }
    co_return co_await audit_trail(job, limit, before);
}

result_info<std::shared_ptr<subscription>> job_service::subscribe_as(const auth::identity& who) {
    return events_.create(who.user, sees_all(who) ? std::nullopt : std::optional<std::string>(who.user));
}

result_info<std::unique_ptr<job_service::pin>> job_service::follow_as(const auth::identity& who,
                                                                      subscription& s,
                                                                      jobs::job_id id,
                                                                      bool output,
                                                                      std::uint64_t from) {
    auto job = find_as(who, id);
    if (job) {
        s.follow(id, output, from);
    }
    return job;
}

result_info<void> job_service::follow_services_as(const auth::identity& who, subscription& s, bool on) {
    if (on) {
        if (auto ok = check_see_services(who); !ok) {
            return ok.error();
        }
    }
    s.follow_services(on);
    return {};
}

result_info<std::shared_ptr<subscription>> job_service::resume_as(const auth::identity& who,
                                                                  std::string_view id) {
    if (auto s = events_.find(id, who.user)) {
        return s;
    }
    return error_info{errc::subscription_not_found,
                      fmt::format("no subscription '{}': it expired (api.subscription_linger) or is not yours", id)};
}

}  // namespace corral::services
