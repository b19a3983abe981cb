#include "corral/services/supervisor.hpp"

#include <signal.h>

#include <algorithm>
#include <cmath>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "corral/core/parse.hpp"
#include "corral/jobs/job_json.hpp"
#include "corral/services/job_access.hpp"
#include "readiness.hpp"

namespace corral::services {
namespace {

using namespace std::chrono_literals;
using namespace net::experimental::awaitable_operators;
using steady = std::chrono::steady_clock;

constexpr std::chrono::milliseconds for_ever{std::chrono::hours(24 * 365)};

/// How a run ended, in words: "exited with code 3", "failed to start: ...", "killed by signal TERM".
std::string describe_end(const jobs::job& j) {
    if (j.start_error) {
        return fmt::format("failed to start: {}", j.reason);
    }
    if (j.exit) {
        return j.exit->describe();
    }
    return j.reason.empty() ? std::string(jobs::to_string(j.state)) : j.reason;
}

}  // namespace

std::string_view to_string(service_state s) {
    switch (s) {
        case service_state::stopped:
            return "stopped";
        case service_state::waiting:
            return "waiting";
        case service_state::starting:
            return "starting";
        case service_state::running:
            return "running";
        case service_state::backoff:
            return "backoff";
        case service_state::stopping:
            return "stopping";
        case service_state::failed:
            return "failed";
    }
    return "?";
}

struct supervisor::entry {
    service_status status;
    std::vector<entry*> after;   ///< what it waits for
    std::vector<entry*> before;  ///< what waits for it
    bool wanted = false;         ///< it should run (an operator or corrald's start asked)
    bool supervising = false;    ///< its coroutine runs
    bool restart_now = false;    ///< restart_as(): the next start skips the backoff
    bool done = false;           ///< ran and exited healthy, not to run again: its dependents may go on
    bool from_config = true;     ///< false: added at run time (add_as), which a reload leaves alone
    bool removed = false;        ///< removed (remove_as, a reload): out of every list, stopping or stopped
    std::unique_ptr<job_service::pin> run;
    steady::time_point run_started;
    std::string last_end;
};

supervisor::supervisor(job_service& jobs, std::vector<service_def> defs)
    : jobs_(jobs),
      changed_(jobs.executor()),
      tasks_(jobs.executor()),
      jitter_(static_cast<std::minstd_rand::result_type>(steady::now().time_since_epoch().count())) {
    (void)start_order(defs).value();  // checked by the caller; a broken set must not get further
    for (auto& def : defs) {
        auto e = std::make_unique<entry>();
        e->status.def = std::move(def);
        entries_.push_back(std::move(e));
    }
    relink();
}

std::vector<service_def> supervisor::live_defs(const entry* skip) const {
    std::vector<service_def> defs;
    for (const auto& e : entries_) {
        if (!e->removed && e.get() != skip) {
            defs.push_back(e->status.def);
        }
    }
    return defs;
}

void supervisor::relink() {
    for (auto& e : entries_) {
        e->after.clear();
        e->before.clear();
    }
    const auto order = start_order(live_defs()).value();
    std::vector<std::unique_ptr<entry>> sorted;
    std::vector<std::unique_ptr<entry>> removed;
    {
        std::vector<std::unique_ptr<entry>> live_entries;
        for (auto& e : entries_) {
            (e->removed ? removed : live_entries).push_back(std::move(e));
        }
        for (auto i : order) {
            sorted.push_back(std::move(live_entries[i]));
        }
    }
    for (auto& e : removed) {
        sorted.push_back(std::move(e));
    }
    entries_ = std::move(sorted);
    for (auto& e : entries_) {
        if (e->removed) {
            continue;
        }
        for (const auto& name : e->status.def.after) {
            auto* dep = lookup(name);
            e->after.push_back(dep);
            dep->before.push_back(e.get());
        }
    }
}

supervisor::~supervisor() = default;

supervisor::entry* supervisor::lookup(std::string_view name) const {
    for (const auto& e : entries_) {
        if (!e->removed && e->status.def.name == name) {
            return e.get();
        }
    }
    return nullptr;
}

void supervisor::start() {
    for (auto& e : entries_) {
        if (e->status.def.autostart) {
            want(*e, "corrald");
        }
    }
}

void supervisor::note(entry& e, service_state s, std::string kind, std::string detail, std::string reason) {
    auto& st = e.status;
    st.state = s;
    st.reason = std::move(reason);
    spdlog::info("service {}: {}{}{}", st.def.name, kind, detail.empty() ? "" : ": ", detail);
    jobs_.publish_service_event({st.def.name, std::string(to_string(s)), kind, detail}, st.job);
    st.events.push_back({jobs::clock::now(), std::move(kind), std::move(detail), st.job});
    while (st.events.size() > service_status::events_kept) {
        st.events.pop_front();
    }
    changed_.notify_all();
}

void supervisor::want(entry& e, std::string_view actor) {
    for (auto* dep : e.after) {
        want(*dep, actor);
    }
    if (e.wanted && e.supervising) {
        return;
    }
    e.wanted = true;
    e.done = false;
    if (e.status.state == service_state::failed) {
        e.status.restarts = 0;
    }
    if (!e.supervising) {
        e.supervising = true;
        tasks_.spawn(supervise(e), "service " + e.status.def.name);
    }
    changed_.notify_all();
}

void supervisor::unwant(entry& e, std::string_view actor) {
    e.wanted = false;
    e.restart_now = false;
    if (auto* j = e.run ? &e.run->get() : nullptr; j && !jobs::is_finished(j->state)) {
        note(e, service_state::stopping, "stopping", fmt::format("job {}, asked by {}", j->id, actor));
        (void)jobs_.kill(*j, std::nullopt, std::nullopt, actor);
    }
    changed_.notify_all();
}

net::awaitable<void> supervisor::supervise(entry& e) {
    struct ends {
        supervisor& self;
        entry& e;
        ~ends() {
            e.supervising = false;
            self.changed_.notify_all();
        }
    } on_exit{*this, e};
    const auto& def = e.status.def;
    while (e.wanted && !stopping_) {
        if (!co_await dependencies_ready(e)) {
            break;  // stopped while it waited, or failed with what it waited for
        }
        const bool healthy = co_await run_once(e);
        if (!e.wanted || stopping_) {
            break;
        }
        if (e.restart_now) {
            e.restart_now = false;
            continue;
        }
        const bool again = def.restart == restart_policy::always ||
                           (def.restart == restart_policy::on_failure && !healthy);
        if (!again) {
            e.wanted = false;
            e.done = healthy;
            if (healthy) {
                note(e, service_state::stopped, "done", e.last_end, "exited: " + e.last_end);
            } else {
                note(e, service_state::failed, "failed", fmt::format("restart = {}", to_string(def.restart)),
                     e.last_end);
            }
            co_return;
        }
        if (steady::now() - e.run_started >= def.backoff.reset_after) {
            e.status.restarts = 0;
        }
        if (def.backoff.give_up_after > 0 && e.status.restarts >= def.backoff.give_up_after) {
            e.wanted = false;
            note(e, service_state::failed, "failed", "gave up",
                 fmt::format("gave up after {} restarts in a row; the last run {}", e.status.restarts, e.last_end));
            co_return;
        }
        ++e.status.restarts;
        const auto delay = next_delay(e);
        e.status.next_start = jobs::clock::now() + delay;
        note(e, service_state::backoff, "backoff",
             fmt::format("restart {} in {}", e.status.restarts, format_duration(delay)), e.last_end);
        co_await sleep_until(e, *e.status.next_start);
        e.status.next_start.reset();
    }
    if (e.status.state != service_state::failed) {
        note(e, service_state::stopped, "stopped", e.last_end);
    }
}

net::awaitable<bool> supervisor::dependencies_ready(entry& e) {
    for (;;) {
        if (!e.wanted || stopping_) {
            co_return false;
        }
        const entry* missing = nullptr;
        for (const auto* dep : e.after) {
            if (dep->status.state == service_state::failed) {
                e.wanted = false;
                note(e, service_state::failed, "failed", fmt::format("'{}' failed", dep->status.def.name),
                     fmt::format("it comes after '{}', which failed: {}", dep->status.def.name, dep->status.reason));
                co_return false;
            }
            if (dep->status.state != service_state::running && !dep->done) {
                missing = dep;
            }
        }
        if (!missing) {
            co_return true;
        }
        if (e.status.state != service_state::waiting) {
            note(e, service_state::waiting, "waiting", fmt::format("for '{}'", missing->status.def.name),
                 fmt::format("waiting for '{}' to be ready", missing->status.def.name));
        }
        co_await changed_.wait();
    }
}

submit_request supervisor::run_request(const entry& e) const {
    const auto& def = e.status.def;
    submit_request r;
    r.owner = "service:" + def.name;
    r.unscheduled = true;
    auto& p = r.spec.process;
    p.argv = def.command;
    p.cwd = def.cwd;
    p.env = def.env;
    p.input = def.stdin_pipe ? proc::input_mode::pipe : proc::input_mode::none;
    p.output = def.merge ? proc::output_mode::merged : proc::output_mode::separate;
    p.pty = def.pty;
    r.spec.stop = def.stop;
    r.spec.labels[service_label] = def.name;
    return r;
}

net::awaitable<bool> supervisor::run_once(entry& e) {
    auto submitted = jobs_.submit(run_request(e));
    e.run_started = steady::now();
    ++e.status.runs;
    if (!submitted) {
        e.last_end = fmt::format("could not be started: {}", submitted.error().what());
        note(e, service_state::starting, "not started", e.last_end);
        co_return false;
    }
    jobs::job& j = **submitted;
    const auto id = j.id;
    e.run = std::make_unique<job_service::pin>(jobs_, j);
    e.status.job = id;
    note(e, service_state::starting, "starting", fmt::format("run {}, job {}", e.status.runs, id));
    co_await jobs_.wait_started(id, for_ever);
    bool ready_failed = false;
    if (j.state == jobs::job_state::running) {
        auto race = co_await (services::wait_ready(e.status.def.ready, j) || jobs_.wait_finished(id, for_ever));
        if (race.index() == 0) {
            const auto& outcome = std::get<0>(race);
            if (outcome.ready && e.wanted) {
                note(e, service_state::running, "ready", outcome.detail);
            } else if (!outcome.ready) {
                ready_failed = true;
                note(e, service_state::starting, "not ready", outcome.detail, outcome.detail);
                (void)jobs_.kill(j, std::nullopt, std::nullopt, "corrald");
            }
        }
    }
    co_await jobs_.wait_finished(id, for_ever);
    e.last_end = describe_end(j);
    if (ready_failed) {
        e.last_end = fmt::format("was not ready ({}), then {}", e.status.events.back().detail, e.last_end);
    }
    note(e, e.status.state, "exited", fmt::format("job {} {}", id, describe_end(j)), e.status.reason);
    e.run.reset();
    co_return !ready_failed && j.exit && j.exit->success();
}

std::chrono::milliseconds supervisor::next_delay(entry& e) {
    const auto& b = e.status.def.backoff;
    const double base = static_cast<double>(b.initial.count()) *
                        std::pow(b.factor, static_cast<double>(e.status.restarts - 1));
    const double capped = std::min(base, static_cast<double>(b.max.count()));
    std::uniform_real_distribution<double> spread(1.0 - b.jitter, 1.0 + b.jitter);
    return std::chrono::milliseconds(static_cast<std::int64_t>(capped * spread(jitter_)));
}

net::awaitable<void> supervisor::sleep_until(entry& e, jobs::clock::time_point when) {
    net::steady_timer timer(jobs_.executor());
    while (e.wanted && !stopping_ && !e.restart_now && jobs::clock::now() < when) {
        timer.expires_after(when - jobs::clock::now());
        co_await (timer.async_wait(use_nothrow) || changed_.wait());
    }
    e.restart_now = false;
}

net::awaitable<void> supervisor::stop(steady::time_point deadline) {
    stopping_ = true;
    net::steady_timer timer(jobs_.executor(), deadline);
    // Reverse start order: what comes after another stops first. A snapshot: one may be added
    // meanwhile.
    std::vector<entry*> order;
    for (auto& e : entries_) {
        order.push_back(e.get());
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        entry& e = **it;
        unwant(e, "corrald");
        while (e.supervising && steady::now() < deadline) {
            co_await (changed_.wait() || timer.async_wait(use_nothrow));
        }
    }
    force_stop();
    co_await tasks_.wait();
}

void supervisor::force_stop() {
    stopping_ = true;
    for (auto& e : entries_) {
        e->wanted = false;
        if (auto* j = e->run ? &e->run->get() : nullptr; j && !jobs::is_finished(j->state)) {
            (void)jobs_.kill(*j, SIGKILL, std::nullopt, "corrald");
        }
    }
    changed_.notify_all();
}

std::size_t supervisor::signal_running(int sig) {
    std::size_t sent = 0;
    for (auto& e : entries_) {
        if (auto* j = e->run ? &e->run->get() : nullptr; j && j->state == jobs::job_state::running) {
            sent += jobs_.kill(*j, sig, std::nullopt, "corrald") ? 1 : 0;
        }
    }
    return sent;
}

std::vector<const service_status*> supervisor::list() const {
    std::vector<const service_status*> out;
    for (const auto& e : entries_) {
        if (!e->removed) {
            out.push_back(&e->status);
        }
    }
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->def.name < b->def.name; });
    return out;
}

const service_status* supervisor::find(std::string_view name) const {
    auto* e = lookup(name);
    return e ? &e->status : nullptr;
}

result_info<std::vector<const service_status*>> supervisor::list_as(const auth::identity& who) const {
    if (auto ok = check_see_services(who); !ok) {
        return ok.error();
    }
    return list();
}

result_info<const service_status*> supervisor::find_as(const auth::identity& who, std::string_view name) const {
    if (auto ok = check_see_services(who); !ok) {
        return ok.error();
    }
    if (auto* s = find(name)) {
        return s;
    }
    return error_info{make_error_code(errc::process_not_found), fmt::format("no service named '{}'", name)};
}

result_info<supervisor::entry*> supervisor::to_act_on(const auth::identity& who, std::string_view name) const {
    auto found = find_as(who, name);
    if (!found) {
        return found.error();
    }
    if (auto ok = check_control_services(who); !ok) {
        return ok.error();
    }
    return lookup(name);
}

result_info<void> supervisor::start_as(const auth::identity& who, std::string_view name) {
    auto found = to_act_on(who, name);
    if (!found) {
        return found.error();
    }
    if (stopping_) {
        return error_info{make_error_code(errc::invalid_state), "corrald is stopping"};
    }
    auto& e = **found;
    if (e.wanted && e.supervising) {
        return error_info{make_error_code(errc::process_exists),
                          fmt::format("service '{}' is already {}", name, to_string(e.status.state))};
    }
    want(e, who.user);
    return {};
}

result_info<void> supervisor::stop_as(const auth::identity& who, std::string_view name) {
    auto found = to_act_on(who, name);
    if (!found) {
        return found.error();
    }
    auto& e = **found;
    if (!e.wanted && !e.supervising) {
        return error_info{make_error_code(errc::invalid_state), fmt::format("service '{}' is not running", name)};
    }
    // What comes after it stops first (its own coroutine waits for them to go).
    std::vector<entry*> dependents;
    auto collect = [&](auto& self, entry& x) -> void {
        for (auto* d : x.before) {
            if (std::find(dependents.begin(), dependents.end(), d) == dependents.end()) {
                self(self, *d);
                dependents.push_back(d);
            }
        }
    };
    collect(collect, e);
    // A member coroutine, not a lambda: g++ 12 loses a coroutine lambda's by-value arguments at -O2.
    auto stopping = stop_in_order(std::move(dependents), &e, who.user);
    tasks_.spawn(std::move(stopping), "stopping service " + std::string(name));
    return {};
}

net::awaitable<void> supervisor::stop_in_order(std::vector<entry*> first, entry* last, std::string actor) {
    for (auto* d : first) {
        unwant(*d, actor);
    }
    for (auto* d : first) {
        while (d->supervising) {
            co_await changed_.wait();
        }
    }
    unwant(*last, actor);
}

result_info<void> supervisor::restart_as(const auth::identity& who, std::string_view name) {
    auto found = to_act_on(who, name);
    if (!found) {
        return found.error();
    }
    if (stopping_) {
        return error_info{make_error_code(errc::invalid_state), "corrald is stopping"};
    }
    restart(**found, who.user);
    return {};
}

void supervisor::restart(entry& e, std::string_view actor) {
    if (!e.supervising) {
        want(e, actor);
        return;
    }
    e.wanted = true;
    e.restart_now = true;
    e.status.restarts = 0;
    if (auto* j = e.run ? &e.run->get() : nullptr; j && !jobs::is_finished(j->state)) {
        note(e, service_state::stopping, "restarting", fmt::format("job {}, asked by {}", j->id, actor));
        (void)jobs_.kill(*j, std::nullopt, std::nullopt, std::string(actor));
    }
    changed_.notify_all();
}

result_info<void> supervisor::add_as(const auth::identity& who, service_def def) {
    if (!who.role || !who.role->admin) {
        return error_info{make_error_code(errc::forbidden),
                          fmt::format("role '{}' may not add services (it runs commands as corrald's user): that takes "
                                      "an admin",
                                      who.role_name())};
    }
    if (stopping_) {
        return error_info{make_error_code(errc::invalid_state), "corrald is stopping"};
    }
    if (lookup(def.name)) {
        return error_info{make_error_code(errc::process_exists), fmt::format("a service named '{}' exists", def.name)};
    }
    auto defs = live_defs();
    defs.push_back(def);
    if (auto order = start_order(defs); !order) {
        return order.error();
    }
    auto e = std::make_unique<entry>();
    e->status.def = std::move(def);
    e->from_config = false;
    auto& added = *e;
    entries_.push_back(std::move(e));
    relink();
    note(added, service_state::stopped, "added", fmt::format("by {}", who.user));
    if (added.status.def.autostart) {
        want(added, who.user);
    }
    return {};
}

result_info<void> supervisor::remove_as(const auth::identity& who, std::string_view name) {
    if (auto seen = find_as(who, name); !seen) {
        return seen.error();
    }
    if (!who.role->admin) {
        return error_info{make_error_code(errc::forbidden),
                          fmt::format("role '{}' may not remove services: that takes an admin", who.role_name())};
    }
    auto& e = *lookup(name);
    if (!e.before.empty()) {
        return error_info{make_error_code(errc::invalid_state),
                          fmt::format("'{}' comes after '{}': remove or change it first", e.before.front()->status.def.name,
                                      name)};
    }
    retire(e, who.user);
    relink();
    return {};
}

void supervisor::retire(entry& e, std::string_view actor) {
    note(e, e.status.state, "removed", fmt::format("by {}", actor));
    e.removed = true;
    if (e.wanted || e.supervising) {
        unwant(e, actor);
    }
    // A member coroutine, not a lambda: g++ 12 loses a coroutine lambda's by-value arguments at -O2.
    auto forgetting = forget(&e);
    tasks_.spawn(std::move(forgetting), "removing service " + e.status.def.name);
}

net::awaitable<void> supervisor::forget(entry* e) {
    while (e->supervising) {
        co_await changed_.wait();
    }
    // The entry itself stays, out of every list: a coroutine that stops services in order may still
    // hold it. Its history goes, so that what stays is a few hundred bytes.
    std::deque<service_event>().swap(e->status.events);
}

result_info<reload_report> supervisor::reload(std::vector<service_def> defs) {
    if (stopping_) {
        return error_info{make_error_code(errc::invalid_state), "corrald is stopping"};
    }
    // The new set, with the services added at run time that it does not name, must fit together.
    std::vector<service_def> all = defs;
    for (auto& e : entries_) {
        const bool named = std::any_of(defs.begin(), defs.end(), [&](const auto& d) { return d.name == e->status.def.name; });
        if (!e->removed && !e->from_config && !named) {
            all.push_back(e->status.def);
        }
    }
    if (auto order = start_order(all); !order) {
        return error_info{make_error_code(errc::invalid_argument),
                          fmt::format("the new services do not fit with those added at run time: {}", order.error().what())};
    }
    reload_report report;
    for (auto& e : entries_) {
        const bool named = std::any_of(defs.begin(), defs.end(), [&](const auto& d) { return d.name == e->status.def.name; });
        if (!e->removed && e->from_config && !named) {
            report.removed.push_back(e->status.def.name);
        }
    }
    for (const auto& name : report.removed) {
        retire(*lookup(name), "reload");
    }
    std::vector<entry*> to_start;
    std::vector<entry*> to_restart;
    for (auto& def : defs) {
        if (auto* e = lookup(def.name)) {
            e->from_config = true;
            if (same_definition(e->status.def, def)) {
                ++report.unchanged;
                continue;
            }
            report.changed.push_back(def.name);
            const bool running = e->wanted && e->supervising;
            const bool newly_autostart = def.autostart && !e->status.def.autostart && !e->wanted;
            e->status.def = std::move(def);
            note(*e, e->status.state, "changed", running ? "restarting with the new definition" : "");
            if (running) {
                to_restart.push_back(e);
            } else if (newly_autostart) {
                to_start.push_back(e);
            }
            continue;
        }
        auto e = std::make_unique<entry>();
        e->status.def = std::move(def);
        report.added.push_back(e->status.def.name);
        if (e->status.def.autostart) {
            to_start.push_back(e.get());
        }
        entries_.push_back(std::move(e));
    }
    relink();
    for (auto* e : to_restart) {
        restart(*e, "reload");
    }
    for (auto* e : to_start) {
        want(*e, "reload");
    }
    changed_.notify_all();
    return report;
}

result_info<jobs::job_id> supervisor::run_as(const auth::identity& who, std::string_view name, bool to_act) const {
    if (to_act) {
        if (auto e = to_act_on(who, name); !e) {
            return e.error();
        }
    } else if (auto seen = find_as(who, name); !seen) {
        return seen.error();
    }
    const auto job = lookup(name)->status.job;
    if (job == 0) {
        return error_info{make_error_code(errc::invalid_state), fmt::format("service '{}' has not run yet", name)};
    }
    return job;
}

boost::json::object to_json(const service_status& s, bool events) {
    const auto& d = s.def;
    boost::json::object o{
        {"name", d.name},
        {"description", d.description},
        {"state", to_string(s.state)},
        {"reason", s.reason},
        {"job", s.job},
        {"runs", s.runs},
        {"restarts", s.restarts},
        {"restart", to_string(d.restart)},
        {"ready", to_string(d.ready.kind)},
        {"autostart", d.autostart},
        {"stdin", d.stdin_pipe},
    };
    boost::json::array command(d.command.begin(), d.command.end());
    o["command"] = std::move(command);
    boost::json::array after(d.after.begin(), d.after.end());
    o["after"] = std::move(after);
    o["next_start"] = s.next_start ? boost::json::value(jobs::format_time(*s.next_start)) : nullptr;
    if (events) {
        boost::json::array list;
        for (const auto& ev : s.events) {
            list.push_back(boost::json::object{{"time", jobs::format_time(ev.time)},
                                               {"kind", ev.kind},
                                               {"detail", ev.detail},
                                               {"job", ev.job}});
        }
        o["events"] = std::move(list);
    }
    return o;
}

}  // namespace corral::services
