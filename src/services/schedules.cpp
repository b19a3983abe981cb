#include "corral/services/schedules.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "corral/core/parse.hpp"
#include "corral/jobs/job_json.hpp"

namespace corral::services {
namespace {

namespace json = boost::json;
using namespace boost::asio::experimental::awaitable_operators;

// Keys of a schedule itself; any other key of an inline definition belongs to its job.
constexpr std::string_view schedule_keys[] = {
    "name", "cron", "every", "time_zone", "overlap", "catch_up", "catch_up_limit", "owner", "job"};

error_info invalid(std::string message) {
    return error_info{errc::invalid_argument, std::move(message)};
}

std::string_view to_string(overlap_policy p) {
    return p == overlap_policy::skip ? "skip" : p == overlap_policy::queue ? "queue" : "kill-previous";
}

std::string_view to_string(catch_up_policy p) {
    return p == catch_up_policy::none ? "none" : p == catch_up_policy::last ? "last" : "all";
}

bool valid_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

}  // namespace

std::string schedule_def::when() const {
    if (cron) {
        return fmt::format("cron {} ({})", cron->text(), zone ? zone->name() : "UTC");
    }
    return fmt::format("every {}", format_duration(every));
}

result_info<schedule_def> schedule_from_json(const json::value& v) {
    if (!v.is_object()) {
        return invalid("a schedule must be an object: {\"name\": ..., \"cron\": ... or \"every\": ..., \"command\": [...]}");
    }
    const auto& o = v.get_object();
    schedule_def d;
    auto text = [&](std::string_view key) -> std::optional<std::string> {
        const auto* x = o.if_contains(key);
        if (!x || x->is_null()) {
            return std::nullopt;
        }
        if (!x->is_string()) {
            return std::string("\x01");  // a marker: not a string
        }
        return std::string(x->get_string());
    };
    auto name = text("name");
    if (!name || !valid_name(*name)) {
        return invalid("name: required: 1 to 64 letters, digits, '-', '_' or '.'");
    }
    d.name = *name;
    auto where = [&](std::string_view field) { return fmt::format("schedule '{}': {}", d.name, field); };
    auto cron = text("cron");
    auto every = o.if_contains("every");
    if (cron.has_value() == (every != nullptr)) {
        return invalid(where("give either cron (\"*/5 * * * *\", \"@daily\") or every (\"30s\"), not both or neither"));
    }
    if (cron) {
        auto e = sched::cron_expr::parse(*cron);
        if (!e) {
            return invalid(where("cron: " + e.error().what()));
        }
        d.cron = std::move(*e);
    } else {
        const auto t = every->is_string() ? std::string(every->get_string())
                       : every->is_number() ? fmt::format("{}", every->to_number<double>())
                                            : std::string();
        auto period = parse_duration(t);
        if (!period || *period < std::chrono::seconds(1)) {
            return invalid(where(fmt::format("every: must be a duration of at least 1s (\"30s\", \"5m\"){}",
                                             period ? "" : ": " + period.error().what())));
        }
        d.every = *period;
    }
    if (auto zone = text("time_zone")) {
        auto z = sched::time_zone::load(*zone);
        if (!z) {
            return invalid(where("time_zone: " + z.error().what()));
        }
        d.time_zone = *zone;
        d.zone = *z;
    } else {
        d.zone = sched::time_zone::local();
    }
    if (auto overlap = text("overlap")) {
        if (*overlap == "skip") {
            d.overlap = overlap_policy::skip;
        } else if (*overlap == "queue") {
            d.overlap = overlap_policy::queue;
        } else if (*overlap == "kill-previous") {
            d.overlap = overlap_policy::kill_previous;
        } else {
            return invalid(where("overlap: must be skip, queue or kill-previous"));
        }
    }
    if (auto catch_up = text("catch_up")) {
        if (*catch_up == "none") {
            d.catch_up = catch_up_policy::none;
        } else if (*catch_up == "last") {
            d.catch_up = catch_up_policy::last;
        } else if (*catch_up == "all") {
            d.catch_up = catch_up_policy::all;
        } else {
            return invalid(where("catch_up: must be none, last or all"));
        }
    }
    if (const auto* limit = o.if_contains("catch_up_limit")) {
        if (!limit->is_int64() || limit->get_int64() < 1 || limit->get_int64() > 1000) {
            return invalid(where("catch_up_limit: must be a whole number from 1 to 1000"));
        }
        d.catch_up_limit = static_cast<unsigned>(limit->get_int64());
    }
    if (auto owner = text("owner")) {
        if (owner->empty() || owner->size() > 64 || owner->front() == '\x01') {
            return invalid(where("owner: must be a user name"));
        }
        d.owner = *owner;
    }
    if (const auto* job = o.if_contains("job")) {
        if (!job->is_object()) {
            return invalid(where("job: must be an object, as POST /api/v1/jobs takes it"));
        }
        d.job = job->get_object();
    }
    for (const auto& [key, value] : o) {
        if (std::find(std::begin(schedule_keys), std::end(schedule_keys), key) == std::end(schedule_keys)) {
            if (o.contains("job")) {
                return invalid(where(fmt::format("{}: unknown field (put the job's fields in job, or inline without it)",
                                                 std::string_view(key))));
            }
            d.job[key] = value;
        }
    }
    if (d.job.empty()) {
        return invalid(where("give its job: command, shell or task (with args)"));
    }
    return d;
}

json::object schedule_to_json(const schedule_def& d) {
    json::object o{{"name", d.name}};
    if (d.cron) {
        o["cron"] = d.cron->text();
    } else {
        o["every"] = format_duration(d.every);
    }
    if (!d.time_zone.empty()) {
        o["time_zone"] = d.time_zone;
    }
    o["overlap"] = to_string(d.overlap);
    o["catch_up"] = to_string(d.catch_up);
    o["catch_up_limit"] = d.catch_up_limit;
    o["owner"] = d.owner;
    o["job"] = d.job;
    return o;
}

schedule_runner::schedule_runner(job_service& service, job_maker make, std::vector<schedule_def> configured)
    : service_(service), make_(std::move(make)), tasks_(service.executor()), changed_(service.executor()) {
    for (auto& d : configured) {
        auto name = d.name;
        entries_.emplace(std::move(name), entry{std::move(d), std::nullopt, std::nullopt, 0, {}});
    }
}

schedule_runner::~schedule_runner() = default;

void schedule_runner::restore(std::vector<jobs::schedule_record> stored) {
    for (auto& r : stored) {
        auto it = entries_.find(r.name);
        if (it == entries_.end() && r.added) {
            boost::system::error_code ec;
            auto parsed = json::parse(r.definition, ec);
            auto d = ec ? result_info<schedule_def>(invalid(ec.message())) : schedule_from_json(parsed);
            if (!d) {
                spdlog::error("schedule '{}' in the store cannot be read, so it does not run: {}", r.name, d.error().what());
                continue;
            }
            d->added = true;
            it = entries_.emplace(r.name, entry{std::move(*d), std::nullopt, std::nullopt, 0, {}}).first;
        }
        if (it != entries_.end()) {
            it->second.last_run = r.last_run;
        }
    }
}

void schedule_runner::start() {
    const auto now = now_();
    for (auto& [name, e] : entries_) {
        if (e.last_run && e.def.catch_up != catch_up_policy::none) {
            std::size_t missed = 0;
            const std::size_t cap = e.def.catch_up == catch_up_policy::all ? e.def.catch_up_limit : 1;
            for (auto t = next_after(e, *e.last_run); t && *t <= now && missed < cap; t = next_after(e, *t)) {
                ++missed;
            }
            for (std::size_t i = 0; i < missed; ++i) {
                fire(e, now, fmt::format("catching up ({} of {})", i + 1, missed));
            }
        }
        e.next = next_from(e, now);
    }
    running_ = true;
    tasks_.spawn(loop(), "schedules");
}

net::awaitable<void> schedule_runner::stop() {
    running_ = false;
    changed_.notify_all();
    co_await tasks_.wait();
}

std::optional<schedule_runner::clock::time_point> schedule_runner::next_from(const entry& e, clock::time_point now) const {
    // An interval keeps its grid, anchored at the last run; nothing before now.
    auto next = next_after(e, e.last_run && e.def.every.count() > 0 ? std::max(*e.last_run, now - e.def.every) : now);
    return next && *next <= now ? next_after(e, now) : next;
}

std::optional<schedule_runner::clock::time_point> schedule_runner::next_after(const entry& e, clock::time_point t) const {
    if (e.def.cron) {
        auto next = e.def.cron->next_after(std::chrono::floor<std::chrono::seconds>(t), *e.def.zone);
        if (!next) {
            return std::nullopt;
        }
        return clock::time_point(*next);
    }
    // Every N: on a grid anchored at the last run (at the start when there is none yet).
    const auto period = std::chrono::duration_cast<clock::duration>(e.def.every);
    const auto anchor = e.last_run.value_or(t);
    if (t < anchor) {
        return anchor;
    }
    return anchor + period * ((t - anchor) / period + 1);
}

std::vector<schedule_runner::clock::time_point> schedule_runner::next_runs(const entry& e,
                                                                           clock::time_point from,
                                                                           std::size_t n) const {
    std::vector<clock::time_point> out;
    auto t = e.next && *e.next > from ? e.next : next_after(e, from);
    while (t && out.size() < n) {
        out.push_back(*t);
        t = next_after(e, *t);
    }
    return out;
}

void schedule_runner::fire_due() {
    const auto now = now_();
    for (auto& [name, e] : entries_) {
        if (e.next && *e.next <= now) {
            fire(e, now, {});
            e.next = next_after(e, now);
        }
    }
}

void schedule_runner::fire(entry& e, clock::time_point now, std::string_view why) {
    const auto& d = e.def;
    e.last_run = now;
    auto* previous = e.last_job ? service_.find(e.last_job) : nullptr;
    if (previous && !jobs::is_finished(previous->state)) {
        if (d.overlap == overlap_policy::skip) {
            e.last_outcome = fmt::format("skipped: job {} was still {}", previous->id, jobs::to_string(previous->state));
            service_.audit("corrald", "schedule_skipped", previous->id, fmt::format("schedule {}: {}", d.name, e.last_outcome));
            persist(e);
            return;
        }
        if (d.overlap == overlap_policy::kill_previous) {
            (void)service_.kill(*previous, std::nullopt, std::nullopt, fmt::format("schedule {}", d.name));
        }
    }
    // The job is read again at each firing: a task it names may have changed with a reload.
    auto request = make_(d.job);
    std::string failure;
    jobs::job* submitted = nullptr;
    if (!request) {
        failure = request.error().what();
    } else {
        request->owner = d.owner;
        request->spec.labels["schedule"] = d.name;
        auto queued = service_.submit(std::move(*request));
        if (queued) {
            submitted = *queued;
        } else {
            failure = queued.error().what();
        }
    }
    if (!submitted) {
        e.last_outcome = fmt::format("failed: {}", failure);
        spdlog::warn("schedule {}: its job was not submitted: {}", d.name, failure);
        service_.audit("corrald", "schedule_failed", 0, fmt::format("schedule {}: {}", d.name, failure));
    } else {
        e.last_job = submitted->id;
        e.last_outcome = fmt::format("job {}", e.last_job);
        service_.audit("corrald",
                       "schedule",
                       e.last_job,
                       fmt::format("schedule {} ({}){}{}", d.name, d.when(), why.empty() ? "" : ": ", why));
    }
    persist(e);
}

void schedule_runner::persist(const entry& e) {
    if (auto* journal = service_.journal()) {
        journal->save_schedule({e.def.name,
                                e.def.added ? json::serialize(schedule_to_json(e.def)) : std::string(),
                                e.def.added,
                                e.last_run});
    }
}

result_info<void> schedule_runner::add(schedule_def d) {
    const auto now = now_();
    if (entries_.count(d.name)) {
        return error_info{errc::process_exists, fmt::format("a schedule named '{}' exists", d.name)};
    }
    if (auto request = make_(d.job); !request) {
        return invalid(fmt::format("schedule '{}': job: {}", d.name, request.error().what()));
    }
    d.added = true;
    auto name = d.name;
    auto& e = entries_.emplace(name, entry{std::move(d), std::nullopt, std::nullopt, 0, {}}).first->second;
    e.next = next_after(e, now);
    persist(e);
    service_.audit("corrald", "schedule_added", 0, fmt::format("schedule {} ({})", name, e.def.when()));
    changed_.notify_all();
    return {};
}

result_info<void> schedule_runner::remove(std::string_view name) {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
        return error_info{errc::process_not_found, fmt::format("no schedule named '{}'", name)};
    }
    if (!it->second.def.added) {
        return error_info{errc::invalid_state,
                          fmt::format("schedule '{}' is in the config file: remove it there (a restart applies it)", name)};
    }
    if (auto* journal = service_.journal()) {
        journal->forget_schedule(std::string(name));
    }
    service_.audit("corrald", "schedule_removed", 0, fmt::format("schedule {}", name));
    entries_.erase(it);
    changed_.notify_all();
    return {};
}

result_info<schedule_runner::reload_report> schedule_runner::reload(std::vector<schedule_def> configured) {
    for (const auto& d : configured) {  // checked first: a bad one changes nothing
        if (auto request = make_(d.job); !request) {
            return invalid(fmt::format("schedule '{}': job: {}", d.name, request.error().what()));
        }
    }
    const auto now = now_();
    reload_report report;
    std::set<std::string, std::less<>> wanted;
    for (auto& d : configured) {
        wanted.insert(d.name);
        auto it = entries_.find(d.name);
        if (it == entries_.end()) {
            report.added.push_back(d.name);
            auto name = d.name;
            auto& e = entries_.emplace(std::move(name), entry{std::move(d), std::nullopt, std::nullopt, 0, {}}).first->second;
            e.next = next_after(e, now);
            continue;
        }
        auto& e = it->second;
        if (!e.def.added && schedule_to_json(e.def) == schedule_to_json(d)) {
            ++report.unchanged;
            continue;
        }
        report.changed.push_back(d.name);
        e.def = std::move(d);
        e.def.added = false;
        e.next = next_from(e, now);
        persist(e);  // no longer an added one's definition in the store
    }
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (!it->second.def.added && !wanted.count(it->first)) {
            report.removed.push_back(it->first);
            if (auto* journal = service_.journal()) {
                journal->forget_schedule(it->first);
            }
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
    changed_.notify_all();
    return report;
}

net::awaitable<void> schedule_runner::loop() {
    net::steady_timer timer(service_.executor());
    while (running_) {
        fire_due();
        const auto now = now_();
        // Until the next is due, at most a second: a schedule added meanwhile, or the system clock
        // set, is seen within one.
        auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::seconds(1));
        for (const auto& [name, e] : entries_) {
            if (e.next) {
                wait = std::min(wait, std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                          std::max(*e.next - now, clock::duration::zero())));
            }
        }
        timer.expires_after(wait);
        co_await (timer.async_wait(use_nothrow) || changed_.wait());
    }
}

}  // namespace corral::services
