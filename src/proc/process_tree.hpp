#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cgroup_linux.hpp"
#include "proc_table_linux.hpp"

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

/**
 * cgroup v2: the leaf holds the leader and every descendant, however they daemonize.
 *
 * We are not normally a subreaper in this mode, so the tree's orphans go to init. When the process
 * is a subreaper anyway (an embedding program, a container's init), they come to us and this tree
 * reaps its own dead: zombies whose session or process group was seen in the leaf.
 */
class cgroup_tree final : public process_tree {
  public:
    cgroup_tree(cgroup_leaf leaf, pid_t leader);
    ~cgroup_tree() override;
    void signal(int signal) override;
    bool empty() override;

  private:
    void note_groups();

    cgroup_leaf leaf_;
    bool subreaper_;
    std::set<pid_t> groups_;  // sessions and process groups of the members (subreaper only)
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
    /// True when, the leader gone, no process can be left: without reading all of /proc.
    bool gone_at_a_glance() const;

    std::shared_ptr<launcher_state> state_;
    pid_t leader_;
    std::string tag_;
    std::set<pid_t> adopted_;  // tagged orphans ever adopted: their sessions are ours too
};

}  // namespace corral::proc
