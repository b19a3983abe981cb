// api_router's routes on a job's input and output: stdin writes, output pages (JSON or raw bytes,
// long-polled with `wait=`), waiting for a job to end, and waiting for the queue to empty.
#include <algorithm>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "corral/core/parse.hpp"
#include "corral/jobs/job_json.hpp"
#include "corral/proto/api_router.hpp"
#include "corral/proto/output_json.hpp"
#include "proto/api_access.hpp"

namespace corral::proto {
namespace {

namespace json = boost::json;

/// Cuts a page at `end` (the end of an earlier attempt's output).
void trim_to(output::read_result& slice, std::uint64_t end) {
    if (end == UINT64_MAX || slice.next <= end) {
        return;
    }
    while (!slice.records.empty() && slice.records.back().offset >= end) {
        slice.records.pop_back();
    }
    if (!slice.records.empty()) {
        auto& last = slice.records.back();
        if (last.offset + last.bytes.size() > end) {
            last.bytes.resize(end - last.offset);
        }
    }
    slice.next = end;
}

/// `format=raw`: the bytes themselves, and where they stand in headers.
http::reply raw_reply(output::read_result slice, bool eof, bool split, const jobs::job& j) {
    std::string bytes;
    std::optional<http::file_body> file;
    if (slice.on_file) {
        // A page left on file: the session sends it from there (sendfile), not through our memory.
        file.emplace();
        file->file = slice.on_file->file;
        for (const auto& e : slice.on_file->extents) {
            file->extents.emplace_back(e.pos, e.length);
        }
    } else if (slice.records.size() == 1) {
        bytes = std::move(slice.records.front().bytes);  // a page of one stream: read as one piece
    } else {
        std::size_t size = 0;
        for (const auto& r : slice.records) {
            size += r.bytes.size();
        }
        bytes.reserve(size);  // one allocation: growing a many-MiB body copies it again and again
        for (const auto& r : slice.records) {
            bytes += r.bytes;
        }
    }
    auto r = text_reply(http::status::ok, std::move(bytes), "application/octet-stream");
    r.file = std::move(file);
    r.head.set("X-Corral-Next", std::to_string(slice.next));
    r.head.set("X-Corral-Lost", std::to_string(slice.lost));
    r.head.set("X-Corral-Eof", eof ? "true" : "false");
    r.head.set("X-Corral-State", jobs::to_string(j.state));
    if (split && slice.on_file) {
        r.head.set("X-Corral-Stream", output::stream_name(slice.on_file->source));
    } else if (split && !slice.records.empty()) {
        r.head.set("X-Corral-Stream", output::stream_name(slice.records.front().source));
    }
    return r;
}

template <class T>
net::awaitable<void> discard(net::awaitable<T> work) {
    (void)co_await std::move(work);
}

/// Runs a long-poll's wait, unless its client leaves first: false then, and the wait is given up.
net::awaitable<bool> client_stays(const http::peer& who, net::awaitable<void> wait) {
    if (!who.link) {
        co_await std::move(wait);
        co_return true;
    }
    const bool stayed = co_await who.link->unless_gone(std::move(wait));
    co_return stayed;
}

/// For a client that left during its long-poll: nobody reads it; counted as nginx counts it (499).
http::reply client_left() {
    auto r = text_reply(http::status::no_content, "", "text/plain");
    r.head.result(499);
    r.head.keep_alive(false);
    return r;
}

}  // namespace

net::awaitable<http::reply> api_router::write_stdin(http::request& req,
                                                    const http::peer& who,
                                                    const target& t,
                                                    jobs::job_id id) {
    const bool close = t.param("close") == "true" || t.param("close") == "1";
    if (!req.body().empty()) {
        if (auto bad = require_body_type(req, {"application/octet-stream", "text/plain"})) {
            co_return *bad;
        }
    }
    auto* j = service_.find(id);
    services::job_service::pin keep(service_, *j);
    if (j->state == jobs::job_state::queued && j->spec.process.input == proc::input_mode::pipe) {
        // Not started yet (waiting for a slot, or its process is starting): the write waits for it.
        auto started = discard(service_.wait_started(id, options_.max_wait));
        if (!(co_await client_stays(who, std::move(started)))) {
            co_return client_left();
        }
        j = &keep.get();
    }
    if (j->state != jobs::job_state::running || j->spec.process.input != proc::input_mode::pipe) {
        co_return error_reply(
            http::status::conflict,
            "stdin_closed",
            fmt::format("job {} has no open stdin: it must be running and submitted with \"stdin\": \"pipe\"",
                        id));
    }
    const auto n = req.body().size();
    if (n > 0) {
        auto written =
            co_await service_.write_stdin(keep.get(), std::move(req.body()), options_.stdin_timeout);
        if (written.error() == net::error::timed_out) {
            co_return error_reply(
                http::status::service_unavailable,
                "stdin_timeout",
                fmt::format("job {} did not read its stdin within {} (api.stdin_timeout): the "
                            "write was abandoned, and the job may have read part of it",
                            id,
                            format_duration(options_.stdin_timeout)));
        }
        if (!written) {
            co_return error_reply(
                http::status::conflict,
                "stdin_closed",
                fmt::format("writing to job {}'s stdin failed: {}", id, written.error().message()));
        }
    }
    if (close) {
        (void)service_.close_stdin(keep.get());
    }
    co_return json_reply(http::status::ok, {{"written", n}, {"closed", close}});
}

net::awaitable<http::reply> api_router::read_output(const http::peer& who, const target& t, jobs::job_id id) {
    std::string error;
    auto from = number_param(t, "from", 0, 0, UINT64_MAX, error);
    auto wait = number_param(t, "wait", 0, 0, static_cast<std::uint64_t>(options_.max_wait.count()), error);
    auto max = number_param(t, "max", 1 << 20, 1, 16 << 20, error);
    const auto format = t.param("format").value_or("json");
    if (!from || !wait || !max) {
        co_return error_reply(http::status::bad_request, "bad_query", error);
    }
    if (format != "json" && format != "raw") {
        co_return error_reply(http::status::bad_request, "bad_query", "format must be json or raw");
    }
    if (*wait > 0) {
        auto more = service_.wait_output(id, *from, std::chrono::seconds(*wait));
        if (!(co_await client_stays(who, std::move(more)))) {
            co_return client_left();
        }
    }
    auto* j = service_.find(id);
    if (!j) {
        co_return not_found(id);
    }
    // `attempt=K`: one attempt's output (a retried job's attempts follow one another in its log).
    std::uint64_t attempt_end = UINT64_MAX;
    if (t.param("attempt")) {
        const auto& retries = j->retries.get();
        auto k = number_param(t, "attempt", 0, 1, retries.attempt, error);
        if (!k) {
            co_return error_reply(http::status::bad_request,
                                  "bad_query",
                                  fmt::format("attempt: job {} has had attempts 1 to {}", id, retries.attempt));
        }
        if (*k < retries.attempt) {
            const auto& a = retries.attempts[*k - 1];
            attempt_end = a.output_to;
            *from = std::clamp(*from, a.output_from, a.output_to);
        } else {
            *from = std::max(*from, retries.output_from);
        }
    }
    services::job_service::pin keep(service_, *j);  // while what is on file is read
    const bool split = t.param("split").value_or("") == "true";
    // A raw page of one stream is read as one piece (no string per record to join after), or, when
    // it is on file in large records, sent from there (an attempt's page is cut in memory: not that).
    const auto shape = format != "raw" || !split   ? output::read_shape::records
                       : attempt_end == UINT64_MAX ? output::read_shape::one_stream_on_file
                                                   : output::read_shape::one_stream;
    auto slice = co_await j->log->read_async(*from, *max, shape);
    trim_to(slice, attempt_end);
    const bool eof = (j->log->closed() || attempt_end != UINT64_MAX) &&
                     slice.next >= std::min(attempt_end, j->log->end_offset());
    if (format == "raw") {
        co_return raw_reply(std::move(slice), eof, split, *j);
    }
    json::array records;
    for (const auto& r : coalesce(std::move(slice.records))) {
        records.push_back(record_json(r));
    }
    co_return json_reply(http::status::ok,
                         {{"job", id},
                          {"records", std::move(records)},
                          {"next", slice.next},
                          {"lost", slice.lost},
                          {"eof", eof},
                          {"state", jobs::to_string(j->state)}});
}

net::awaitable<http::reply> api_router::wait(const http::peer& who, const target& t, jobs::job_id id) {
    std::string error;
    auto timeout =
        number_param(t, "timeout", 30, 0, static_cast<std::uint64_t>(options_.max_wait.count()), error);
    if (!timeout) {
        co_return error_reply(http::status::bad_request, "bad_query", error);
    }
    auto finished = discard(service_.wait_finished(id, std::chrono::seconds(*timeout)));
    if (!(co_await client_stays(who, std::move(finished)))) {
        co_return client_left();
    }
    auto* j = service_.find(id);
    co_return j ? job_reply(http::status::ok, *j) : not_found(id);
}

net::awaitable<http::reply> api_router::idle(const http::peer& who, const target& t) {
    std::string error;
    auto wait = number_param(t, "wait", 0, 0, static_cast<std::uint64_t>(options_.max_wait.count()), error);
    if (!wait) {
        co_return error_reply(http::status::bad_request, "bad_query", error);
    }
    auto quiet = service_.wait_idle(std::chrono::steady_clock::now() + std::chrono::seconds(*wait));
    if (!(co_await client_stays(who, std::move(quiet)))) {
        co_return client_left();
    }
    const auto running = service_.running() + service_.running_sequences();
    const auto queued = service_.queued();
    const auto held = service_.held();  // waiting for other jobs, or for their next attempt
    co_return json_reply(
        http::status::ok,
        {{"idle", running + queued + held == 0}, {"running", running}, {"queued", queued}, {"waiting", held}});
}

}  // namespace corral::proto
