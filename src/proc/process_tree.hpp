#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgroup_linux.hpp"

namespace corral::proc {

struct launcher_state;

/// The processes of one job other than its leader: found and signalled by one of two mechanisms.
class process_tree {
  public:
    virtual ~process_tree() = default;
    /// Sends a signal to every member.
    virtual void signal(int signal) = 0;
    /// True when no member is alive. The leader is checked separately through its pidfd.
    virtual bool empty() = 0;
};

/// cgroup v2: the leaf holds the leader and every descendant, however they daemonize.
class cgroup_tree final : public process_tree {
  public:
    explicit cgroup_tree(cgroup_leaf leaf) : leaf_(std::move(leaf)) {}
    void signal(int signal) override { leaf_.signal(signal); }
    bool empty() override { return !leaf_.populated(); }

  private:
    cgroup_leaf leaf_;
};

/**
 * Fallback: the leader's session and process group, its descendants, and — because the launcher is the
 * subreaper — orphans re-parented to us that carry this tree's CORRAL_TREE tag in their environment
 * (double-forked `setsid` escapees). A process that leaves the session, the group and clears its
 * environment cannot be found this way; cgroup mode has no such gap.
 */
class pgroup_tree final : public process_tree {
  public:
    pgroup_tree(std::shared_ptr<launcher_state> state, pid_t leader, std::string tag);
    void signal(int signal) override;
    bool empty() override;

  private:
    std::vector<pid_t> members();

    std::shared_ptr<launcher_state> state_;
    pid_t leader_;
    std::string tag_;
};

}  // namespace corral::proc
