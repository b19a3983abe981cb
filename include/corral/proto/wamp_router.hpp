#pragma once
// A WAMP router for the basic profile (https://wamp-proto.org/spec.html), built in so that WAMP
// clients need no crossbar: one realm, a broker (SUBSCRIBE, PUBLISH, EVENT) and a dealer (REGISTER,
// CALL, INVOCATION, YIELD). The connections (wamp_session.hpp) join it once authenticated.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace corral::proto::wamp {

/// Message type codes (the first item of every message).
enum class code : std::int64_t {
    hello = 1,
    welcome = 2,
    abort = 3,
    challenge = 4,
    authenticate = 5,
    goodbye = 6,
    error = 8,
    publish = 16,
    published = 17,
    subscribe = 32,
    subscribed = 33,
    unsubscribe = 34,
    unsubscribed = 35,
    event = 36,
    call = 48,
    result = 50,
    register_ = 64,
    registered = 65,
    unregister = 66,
    unregistered = 67,
    invocation = 68,
    yield = 70,
};

struct router_options {
    /// The one realm clients may join (ASEXOR's demo: realm1).
    std::string realm = "realm1";
    /// The procedure that runs a task: `(task_name, *args, **kwargs)` → task id.
    std::string run_task = "eu.zderadicka.asexor.run_task";
    /// The topic of task updates: args `[task_id]`, kwargs `{status, ...}`, to the caller's session only.
    std::string task_update = "eu.zderadicka.asexor.task_update";
    /// Sessions that show no ticket join with `auth.anonymous_role` (which must be set); otherwise
    /// they are refused.
    bool anonymous = false;
    /// Messages queued for one session before it counts as too slow and is closed.
    std::size_t max_queued = 10'000;
};

/// A session joined to the router, as the router sees it: where its messages go.
class peer {
  public:
    virtual ~peer() = default;
    /// Queues `message` for the session's client (its writer sends it).
    virtual void deliver(boost::json::array message) = 0;
    std::uint64_t session_id() const { return id_; }

  private:
    friend class router;
    std::uint64_t id_ = 0;
};

/// A message's URI is usable: a non-empty string of at most 512 bytes, without spaces or `#`, whose
/// dot-separated components are not empty.
bool valid_uri(std::string_view uri);

/**
 * The realm's broker and dealer. Topics other than task_update carry what clients publish, to every
 * other subscriber (or those `eligible`, less those `exclude`d); procedures are offered by the
 * session that registered them (one callee each) and called by any other. The task procedure and
 * the update topic are corrald's own: nobody may register the one or publish to the other.
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only.
 */
class router {
  public:
    explicit router(router_options options) : options_(std::move(options)) {}
    const router_options& options() const { return options_; }

    /// A new session id for `p` (random, below 2^53 as the spec asks).
    std::uint64_t join(peer& p);
    /// `p` leaves: its subscriptions and registrations go; its callers' pending calls fail with
    /// wamp.error.canceled.
    void leave(peer& p);
    std::size_t sessions() const { return peers_.size(); }

    // --- broker ---
    std::uint64_t subscribe(peer& p, const std::string& topic);
    bool unsubscribe(peer& p, std::uint64_t subscription);
    /// `p`'s subscription to `topic`, if it has one.
    std::optional<std::uint64_t> subscription_of(const peer& p, const std::string& topic) const;
    /// Sends EVENTs to the topic's subscribers; returns the publication id.
    std::uint64_t publish(peer& from,
                          const std::string& topic,
                          const boost::json::object& options,
                          const boost::json::array* args,
                          const boost::json::object* kwargs);
    std::uint64_t next_publication() { return ++publications_; }

    // --- dealer ---
    /// The registration id, or the error URI (wamp.error.procedure_already_exists, ...).
    std::variant<std::uint64_t, std::string> enroll(peer& p, const std::string& procedure);
    bool unregister(peer& p, std::uint64_t id);
    /// Sends an INVOCATION to the procedure's callee; false when nobody registered it.
    bool call(peer& caller,
              std::uint64_t request,
              const std::string& procedure,
              const boost::json::array* args,
              const boost::json::object* kwargs);
    /// The callee's YIELD (or ERROR, when `error_uri` is set) for invocation `id`: a RESULT (or an
    /// ERROR) to the caller. False when `id` is not one of `callee`'s.
    bool answer(peer& callee,
                std::uint64_t invocation,
                const boost::json::object& details,
                const std::string* error_uri,
                const boost::json::array* args,
                const boost::json::object* kwargs);

  private:
    struct topic_entry {
        std::uint64_t id = 0;
        std::set<peer*> subscribers;
    };
    struct registration {
        std::string procedure;
        peer* callee = nullptr;
    };
    struct pending_call {
        peer* caller = nullptr;
        std::uint64_t request = 0;
        peer* callee = nullptr;
    };

    router_options options_;
    std::unordered_map<std::uint64_t, peer*> peers_;
    std::map<std::string, topic_entry, std::less<>> topics_;
    std::unordered_map<std::uint64_t, std::string> topic_by_id_;
    std::map<std::string, std::uint64_t, std::less<>> registration_by_procedure_;
    std::unordered_map<std::uint64_t, registration> registrations_;
    std::unordered_map<std::uint64_t, pending_call> calls_;
    std::uint64_t next_id_ = 0;  ///< subscriptions, registrations and invocations (router scope)
    std::uint64_t publications_ = 0;
};

}  // namespace corral::proto::wamp
