#include "client/job_batches.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "client/client_options.hpp"
#include "client/job_view.hpp"
#include "corral/core/shell_words.hpp"

namespace corral::cli {
namespace {

namespace json = boost::json;
namespace po = boost::program_options;

// Jobs per batch request: small enough to show progress, big enough to cost few round trips.
constexpr std::size_t chunk = 1000;

std::string replace_all(std::string text, std::string_view what, std::string_view with) {
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size())) {
        text.replace(at, what.size(), with);
    }
    return text;
}

/// The job for one input line: `{}` replaced in every word (appended as a last word when no word has
/// one, as xargs does); in a --shell line, replaced by the line quoted, so it stays one word.
json::object job_for(const json::object& model, const std::string& line, std::size_t index) {
    json::object job = model;
    if (auto* argv = job.if_contains("command")) {
        bool placed = false;
        for (auto& word : argv->as_array()) {
            std::string w(word.as_string());
            if (w.find("{}") != std::string::npos) {
                word = replace_all(std::move(w), "{}", line);
                placed = true;
            }
        }
        if (!placed) {
            argv->as_array().emplace_back(line);
        }
    } else if (auto* shell = job.if_contains("shell")) {
        *shell = replace_all(std::string(shell->as_string()), "{}", quote_shell_word(line));
    } else if (auto* args = job.if_contains("args")) {  // a task: {} in its argument values
        for (auto& [name, value] : args->as_object()) {
            if (value.is_string()) {
                value = replace_all(std::string(value.as_string()), "{}", line);
            }
        }
    }
    if (auto* key = job.if_contains("idempotency_key")) {  // one key per line: a re-run skips what was taken
        *key = fmt::format("{}:{}", std::string_view(key->as_string()), index);
    }
    return job;
}

std::vector<std::string> read_lines(const po::variables_map& vm) {
    const std::string from = vm.count("from") ? vm["from"].as<std::string>() : "-";
    std::ifstream file;
    if (from != "-") {
        file.open(from);
        if (!file) {
            throw command_error{fmt::format("--from: cannot read '{}'", from), usage_error};
        }
    } else if (::isatty(STDIN_FILENO)) {
        throw command_error{"--each reads one line per job from stdin or --from FILE; stdin is a terminal",
                            usage_error};
    }
    std::istream& in = from == "-" ? std::cin : file;
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (!line.empty()) {  // blank lines make no jobs
            lines.push_back(std::move(line));
        }
    }
    return lines;
}

void draw(bool on, std::string_view text) {
    if (on) {
        std::fprintf(stderr, "\r%.*s\033[K", static_cast<int>(text.size()), text.data());
    }
}

std::string batch_payload(const json::object& model, const std::vector<std::string>& lines, std::size_t start) {
    json::array jobs;
    for (std::size_t i = start; i < std::min(lines.size(), start + chunk); ++i) {
        jobs.push_back(job_for(model, lines[i], i));
    }
    return json::serialize(json::object{{"jobs", std::move(jobs)}});
}

std::string bar(std::size_t done, std::size_t total) {
    constexpr std::size_t width = 24;
    const auto filled = total == 0 ? width : done * width / total;
    return fmt::format("[{}{}]", std::string(filled, '#'), std::string(width - filled, '.'));
}

}  // namespace

net::awaitable<int> submit_each(api_client& c, const po::variables_map& vm, const std::vector<std::string>& command) {
    auto model = job_request(vm, command);
    if (!model) {
        throw command_error{model.error().what(), usage_error};
    }
    const auto lines = read_lines(vm);
    if (lines.empty()) {
        throw command_error{"--each: no input lines, so no jobs", usage_error};
    }
    const bool progress = ::isatty(STDERR_FILENO) && !vm.count("quiet");
    std::vector<std::uint64_t> ids;
    ids.reserve(lines.size());
    std::string payload = batch_payload(*model, lines, 0);
    for (std::size_t start = 0; start < lines.size(); start += chunk) {
        // The next batch is built while this one travels and corrald takes it (one request at a
        // time on the connection, so the batches stay in order).
        std::string method = "POST", target = "/api/v1/jobs/batch";  // named: g++ 12 and co_await arguments
        auto flight = co_await pending_request::send(c, std::move(method), std::move(target), std::move(payload));
        payload = start + chunk < lines.size() ? batch_payload(*model, lines, start + chunk) : std::string();
        auto r = co_await flight.get();
        if (!r) {
            throw command_error{r.error().what()};
        }
        if (!r->ok()) {
            draw(progress, "");
            throw command_error{fmt::format("{}{}",
                                            start > 0 ? fmt::format("after {} job(s) were submitted (ids {} to {}): ",
                                                                    ids.size(), ids.front(), ids.back())
                                                      : "",
                                            r->error_message())};
        }
        const auto reply = r->json();  // named: a range-for over a temporary's member dangles
        for (const auto& id : reply.at("ids").as_array()) {
            ids.push_back(id.to_number<std::uint64_t>());
        }
        draw(progress, fmt::format("submitting {} {}/{}", bar(ids.size(), lines.size()), ids.size(), lines.size()));
    }
    draw(progress, "");
    if (vm.count("json")) {
        json::array out;
        for (auto id : ids) {
            out.emplace_back(id);
        }
        std::cout << json::serialize(out) << "\n";
    } else if (!vm.count("wait")) {
        for (auto id : ids) {
            std::cout << id << "\n";
        }
    } else {
        std::fprintf(stderr, "corral: submitted %zu jobs, %llu to %llu\n", ids.size(),
                     static_cast<unsigned long long>(ids.front()), static_cast<unsigned long long>(ids.back()));
    }
    if (!vm.count("wait")) {
        co_return 0;
    }
    const wait_options options{progress, true, std::nullopt};
    co_return co_await wait_for_jobs(c, std::move(ids), options);
}

net::awaitable<int> wait_for_jobs(api_client& c, std::vector<std::uint64_t> ids, wait_options options) {
    std::set<std::uint64_t> pending(ids.begin(), ids.end());
    const std::size_t total = pending.size();
    std::map<std::string, std::size_t> outcomes;
    int status = 0;
    const auto started = std::chrono::steady_clock::now();
    while (!pending.empty()) {
        // One pass over the jobs' pages (1000 a request), from the lowest id still pending: a few
        // requests however many jobs, rather than one per job.
        std::set<std::uint64_t> seen;
        std::size_t running = 0, queued = 0;
        const auto last = *pending.rbegin();
        for (std::uint64_t after = *pending.begin() - 1;;) {
            auto page = co_await call(c, "GET", fmt::format("/api/v1/jobs?limit=1000&after={}", after));
            for (const auto& item : page.at("jobs").as_array()) {
                const auto& job = item.as_object();
                const auto id = job.at("id").to_number<std::uint64_t>();
                if (!pending.count(id)) {
                    continue;
                }
                seen.insert(id);
                const std::string state(job.at("state").as_string());
                if (state == "running") {
                    ++running;
                } else if (state == "queued" || state == "waiting" || state == "retrying") {
                    ++queued;
                } else {
                    ++outcomes[state];
                    status = std::max(status, job_exit_status(job));
                    pending.erase(id);
                }
            }
            if (page.at("next").is_null() || page.at("next").to_number<std::uint64_t>() >= last) {
                break;
            }
            after = page.at("next").to_number<std::uint64_t>();
        }
        for (auto it = pending.begin(); it != pending.end();) {  // ended and let go (jobs.max_finished)
            if (!seen.count(*it)) {
                ++outcomes["no longer kept"];
                it = pending.erase(it);
            } else {
                ++it;
            }
        }
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
        const auto done = total - pending.size();
        draw(options.progress,
             fmt::format("waiting {} {}/{} done, {} running, {} queued ({}s)", bar(done, total), done, total, running,
                         queued, secs.count()));
        if (pending.empty()) {
            break;
        }
        if (options.timeout && secs > *options.timeout) {
            if (options.progress) {
                std::fputs("\n", stderr);
            }
            throw command_error{"timed out while waiting", 124};
        }
        // Until the first pending job ends, or a second passes: then look at them all again.
        (void)co_await c.request("GET", fmt::format("/api/v1/jobs/{}/wait?timeout=1", *pending.begin()));
    }
    draw(options.progress, "");
    if (options.summary) {
        std::string text;
        for (const auto& [state, n] : outcomes) {
            text += fmt::format("{}{} {}", text.empty() ? "" : ", ", n, state);
        }
        std::fprintf(stderr, "corral: %zu job(s): %s\n", total, text.c_str());
    }
    co_return status;
}

}  // namespace corral::cli
