#include "process_tree.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "launcher_state.hpp"
#include "pidfd_linux.hpp"
#include "proc_table_linux.hpp"

namespace corral::proc {
namespace {

bool is_subreaper() {
    int on = 0;
    return ::prctl(PR_GET_CHILD_SUBREAPER, &on) == 0 && on != 0;
}

// A member that died after its parent was re-parented to us (a subreaper) as a zombie. Its session and
// process group survive death, so they say whose it is; an embedding program's own children never
// match and are left alone.
void reap_zombie_if_in(const proc_entry& p, const std::set<pid_t>& groups) {
    if (p.state == 'Z' && p.ppid == ::getpid() && (groups.contains(p.session) || groups.contains(p.pgrp))) {
        int status = 0;
        ::waitpid(p.pid, &status, WNOHANG);
    }
}

}  // namespace

cgroup_tree::cgroup_tree(cgroup_leaf leaf, pid_t leader)
    : leaf_(std::move(leaf)), subreaper_(is_subreaper()), groups_{leader} {}

cgroup_tree::~cgroup_tree() {
    if (subreaper_) {
        for (const auto& p : read_proc_table()) {
            reap_zombie_if_in(p, groups_);
        }
    }
}

void cgroup_tree::note_groups() {
    if (subreaper_) {
        for (int pid : leaf_.members()) {
            if (auto e = read_proc_entry(pid)) {
                groups_.insert(e->session);
                groups_.insert(e->pgrp);
            }
        }
    }
}

void cgroup_tree::signal(int signal) {
    note_groups();
    leaf_.signal(signal);
}

bool cgroup_tree::empty() {
    if (!leaf_.populated()) {
        return true;  // no members whose groups to note: skip reading cgroup.procs
    }
    note_groups();
    return false;
}

void launcher_state::reap_orphans() {
    for (auto it = orphans.begin(); it != orphans.end();) {
        siginfo_t info{};
        if (::waitid(P_PIDFD, static_cast<id_t>(it->second.get()), &info, WEXITED | WNOHANG) == 0 &&
            info.si_pid == 0) {
            ++it;  // still running
        } else {
            it = orphans.erase(it);  // reaped now, or no longer ours to reap
        }
    }
}

pgroup_tree::pgroup_tree(std::shared_ptr<launcher_state> state, pid_t leader, std::string tag)
    : state_(std::move(state)), leader_(leader), tag_(std::move(tag)) {}

std::vector<pid_t> pgroup_tree::members() {
    const pid_t self = ::getpid();
    auto table = read_proc_table();
    std::set<pid_t> roots{leader_};
    for (const auto& p : table) {
        if (p.ppid != self || p.pid == leader_ || state_->leaders.contains(p.pid)) {
            continue;
        }
        if (p.state == 'Z') {
            if (!state_->orphans.contains(p.pid)) {  // adopted orphans are reaped through their pidfds
                std::set<pid_t> groups = adopted_;
                groups.insert(leader_);
                reap_zombie_if_in(p, groups);
            }
            continue;
        }
        // An orphan re-parented to us: ours if it carries this tree's tag.
        if (environ_contains(p.pid, tag_)) {
            roots.insert(p.pid);
            adopted_.insert(p.pid);
            if (!state_->orphans.contains(p.pid)) {
                state_->orphans.emplace(p.pid, unique_fd(open_pidfd(p.pid)));
            }
        }
    }
    // Descendants of the roots: repeat until the set stops growing (the table is not ordered).
    std::set<pid_t> tree = roots;
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& p : table) {
            if (!tree.contains(p.pid) && tree.contains(p.ppid)) {
                tree.insert(p.pid);
                grew = true;
            }
        }
    }
    std::vector<pid_t> alive;
    for (const auto& p : table) {
        bool member = tree.contains(p.pid) || p.pgrp == leader_ || p.session == leader_;
        if (member && p.pid != leader_ && p.pid != self && p.state != 'Z' && p.state != 'X') {
            alive.push_back(p.pid);
        }
    }
    return alive;
}

void pgroup_tree::signal(int signal) {
    ::kill(-leader_, signal);  // the process group, while it exists
    for (pid_t pid : members()) {
        ::kill(pid, signal);
    }
    state_->reap_orphans();
}

bool pgroup_tree::empty() {
    state_->reap_orphans();
    return gone_at_a_glance() || members().empty();
}

bool pgroup_tree::gone_at_a_glance() const {
    // Asked once the leader is gone. A process left in its tree is then in its process group, or it
    // is the topmost live one of its line, whose dead parent made it our child (we are the
    // subreaper). Neither: the tree is empty, and reading all of /proc (members()) is not needed.
    // Anything else, even another job's orphan, takes the full look.
    if (::kill(-leader_, 0) == 0 || errno != ESRCH) {
        return false;
    }
    auto children = own_children();
    return children && std::all_of(children->begin(), children->end(), [&](pid_t c) {
               return state_->leaders.contains(c);  // other jobs' leaders, alive
           });
}

}  // namespace corral::proc
