#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "corral/core/error_info.hpp"
#include "unique_fd.hpp"

namespace corral::proc {

struct leaf_pool;

/// One job's cgroup v2 leaf: the child joins it before exec; killing it takes every descendant.
class cgroup_leaf {
  public:
    cgroup_leaf(std::string path, unique_fd procs, unique_fd events, std::shared_ptr<leaf_pool> pool = {});
    cgroup_leaf(cgroup_leaf&&) noexcept = default;
    cgroup_leaf& operator=(cgroup_leaf&&) noexcept = default;
    ~cgroup_leaf();

    const std::string& path() const { return path_; }
    /// cgroup.procs, open for reading and writing: the child writes "0" into it (moves itself).
    int procs_fd() const { return procs_.get(); }
    /// SIGKILL through cgroup.kill: atomic, forks cannot escape it.
    void kill();
    /// Sends any signal to every member (re-reads the member list until it stops growing).
    void signal(int signal);
    /// True while any process lives in the leaf (cgroup.events "populated").
    bool populated() const;
    std::vector<int> members() const;

  private:
    std::string path_;
    unique_fd procs_;
    unique_fd events_;                 // cgroup.events, for populated()
    std::shared_ptr<leaf_pool> pool_;  // where an empty leaf goes back for the next job
};

/// Our own directory in the cgroup v2 hierarchy ("<own cgroup>/corral-<pid>"), parent of all leaves.
class cgroup_root {
  public:
    /// Finds the cgroup2 mount in /proc/self/mountinfo and our cgroup in /proc/self/cgroup, then creates
    /// our directory. Fails with errc::unsupported and the reason when any step is not possible.
    static result_info<cgroup_root> create();

    cgroup_root(cgroup_root&&) noexcept;
    cgroup_root& operator=(cgroup_root&&) noexcept;
    ~cgroup_root();

    const std::string& path() const { return path_; }
    result_info<cgroup_leaf> make_leaf(std::uint64_t id) const;
    /// Removes the directories of earlier corral processes that have exited, where they are empty
    /// (create() does this too, but a crashed corrald's leftovers may be killed only later).
    void remove_stale_siblings() const;

  private:
    explicit cgroup_root(std::string path);
    std::string path_;
    std::shared_ptr<leaf_pool> pool_;
};

/// Exposed for tests: the cgroup2 mount point from a mountinfo text, or "" when there is none.
std::string find_cgroup2_mount(const std::string& mountinfo);

}  // namespace corral::proc
