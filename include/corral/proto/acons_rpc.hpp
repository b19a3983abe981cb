#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>

#include <boost/json/object.hpp>

#include "corral/auth/authority.hpp"
#include "corral/output/line_view.hpp"
#include "corral/proto/http_front.hpp"
#include "corral/services/job_service.hpp"

namespace corral::proto {

/**
 * acons's JSON-RPC (`POST /rpc-run`; research/seeds-inventory.md §1): `{"id", "method", "params"}` in,
 * `{"result", "jsonrpc": "2.0", "id"}` or `{"error": {"code": -1, "message"}, ...}` out. Only acons's
 * own methods exist: os_run/run, flush_console_lines/flush_lines, kill_job, get_output/sync_run,
 * escape_ansi, parse_output_table. Where acons was buggy this does better (docs/protocol.md lists
 * each difference): a kill stops the whole tree and reports exitCode -SIGNAL, run_dir never changes
 * the daemon's directory, lines are whole lines, and an evicted id never crashes a running job.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class acons_rpc final : public http_route {
  public:
    /// acons kept 100 job ids; so do we (the oldest id is forgotten, its job runs on).
    static constexpr std::size_t max_tracked = 100;

    /// What one reply may carry, so that no job's output becomes one string without bound.
    struct limits {
        /// run/sync_run: the last this-many bytes of the output (`api.acons_max_output`).
        std::size_t output = 16 << 20;
        /// flush_lines: about this many bytes of lines per call; the rest come with the next call
        /// (`api.acons_max_flush`).
        std::size_t flush = 1 << 20;
    };
    acons_rpc(services::job_service& service, jobs::job_spec defaults, limits l);
    ~acons_rpc() override;

    /// POST /rpc-run: the JSON body is one call, answered 200 with the reply envelope.
    net::awaitable<http::reply> serve(http::request& req,
                                      const http::peer& who,
                                      const auth::identity& me,
                                      const target& t) override;

    /// Never throws for a bad call: errors are reply envelopes, as acons's server answered them.
    /// Job ids are per caller: two users' "job 1" are different jobs.
    net::awaitable<boost::json::object> call(const boost::json::object& envelope, const auth::identity& me);

  private:
    struct tracked;
    net::awaitable<boost::json::value> run(const boost::json::array& args,
                                           std::string_view method,
                                           const auth::identity& me);
    net::awaitable<boost::json::value> flush_lines(const auth::identity& me, boost::json::value client_id);
    boost::json::value kill(const auth::identity& me, const boost::json::value& client_id);
    std::shared_ptr<tracked> find(const auth::identity& me, const boost::json::value& client_id);
    /// Remembers `j` under the caller's client id (for flush_lines and kill), the oldest going first.
    void track(const auth::identity& me, const boost::json::value& client_id, jobs::job& j);
    /// The last limits_.output bytes of a finished job's output, said so when cut.
    net::awaitable<std::string> last_output(const jobs::job& done) const;

    services::job_service& service_;
    jobs::job_spec defaults_;
    limits limits_;
    std::map<std::string, std::shared_ptr<tracked>> tracked_;
    std::deque<std::string> order_;
};

}  // namespace corral::proto
