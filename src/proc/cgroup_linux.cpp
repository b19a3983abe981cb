#include "cgroup_linux.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <set>
#include <sstream>
#include <utility>

#include <fmt/format.h>

namespace corral::proc {
namespace {

// The whole of a (small, kernel-made) file from its start. Plain read(2), no iostreams: cgroup files
// are read several times per job, and an ifstream costs more than the read itself.
std::string read_from_start(int fd) {
    std::string out;
    char buf[4096];
    for (off_t at = 0;;) {
        const ssize_t n = ::pread(fd, buf, sizeof buf, at);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return out;
        }
        out.append(buf, static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < sizeof buf) {
            return out;  // the kernel fills the buffer unless the file ends: no read just to see EOF
        }
        at += n;
    }
}

std::string read_file(const std::string& path) {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    return fd ? read_from_start(fd.get()) : std::string();
}

bool write_file(const std::string& path, std::string_view text) {
    unique_fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    return fd && ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
            out += static_cast<char>(v);
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

error_info unsupported(std::string why) {
    return {make_error_code(errc::unsupported), std::move(why)};
}

// Removes directories left by earlier corral processes that have exited.
void remove_stale_roots(const std::string& parent) {
    DIR* dir = ::opendir(parent.c_str());
    if (dir == nullptr) {
        return;
    }
    while (dirent* e = ::readdir(dir)) {
        std::string_view name = e->d_name;
        if (!name.starts_with("corral-")) {
            continue;
        }
        int pid = std::atoi(e->d_name + 7);
        if (pid <= 0 || pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) {
            continue;
        }
        std::string root = parent + "/" + std::string(name);
        if (DIR* leaves = ::opendir(root.c_str())) {
            while (dirent* l = ::readdir(leaves)) {
                if (std::string_view(l->d_name).starts_with("job-")) {
                    ::rmdir((root + "/" + l->d_name).c_str());
                }
            }
            ::closedir(leaves);
        }
        ::rmdir(root.c_str());
    }
    ::closedir(dir);
}

}  // namespace

std::string find_cgroup2_mount(const std::string& mountinfo) {
    std::istringstream lines(mountinfo);
    std::string line;
    while (std::getline(lines, line)) {
        auto sep = line.find(" - ");
        if (sep == std::string::npos) {
            continue;
        }
        std::istringstream after(line.substr(sep + 3));
        std::string fstype;
        after >> fstype;
        if (fstype != "cgroup2") {
            continue;
        }
        std::istringstream before(line.substr(0, sep));
        std::string id, parent, devno, root, mount_point;
        before >> id >> parent >> devno >> root >> mount_point;
        return unescape_octal(mount_point);
    }
    return {};
}

result_info<cgroup_root> cgroup_root::create() {
    std::string mount = find_cgroup2_mount(read_file("/proc/self/mountinfo"));
    if (mount.empty()) {
        return unsupported("no cgroup2 filesystem in /proc/self/mountinfo");
    }
    std::string own;
    std::istringstream lines(read_file("/proc/self/cgroup"));
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("0::")) {
            own = line.substr(3);
        }
    }
    if (own.empty()) {
        return unsupported("no cgroup v2 entry (0::) in /proc/self/cgroup");
    }
    std::string parent = own == "/" ? mount : mount + own;
    if (::access((parent + "/cgroup.procs").c_str(), W_OK) != 0) {
        return unsupported(fmt::format("cannot write {}/cgroup.procs: {}", parent, std::strerror(errno)));
    }
    remove_stale_roots(parent);
    std::string path = fmt::format("{}/corral-{}", parent, ::getpid());
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
        return unsupported(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
    }
    if (::access((path + "/cgroup.kill").c_str(), W_OK) != 0) {
        ::rmdir(path.c_str());
        return unsupported(fmt::format("{} has no writable cgroup.kill (kernel older than 5.14?)", path));
    }
    return cgroup_root(std::move(path));
}

void cgroup_root::remove_stale_siblings() const {
    if (const auto slash = path_.rfind('/'); slash != std::string::npos && slash > 0) {
        remove_stale_roots(path_.substr(0, slash));
    }
}

/// Empty leaves kept for the next jobs: making and removing a leaf (mkdir, two opens, rmdir) was a
/// good part of the core's work per job. A leaf is only taken back with no process in it.
struct leaf_pool {
    struct entry {
        std::string path;
        unique_fd procs, events;
    };
    static constexpr std::size_t max_free = 64;
    std::vector<entry> free;
    /// Leaves whose processes were just killed and have not all exited: removed later, when empty,
    /// rather than waited for on the core's thread.
    std::vector<std::string> dying;
    bool closed = false;  // the root is gone: leaves are removed, not kept

    /// Removes the dying leaves that have emptied (never waits).
    void sweep() {
        std::erase_if(dying,
                      [](const std::string& path) { return ::rmdir(path.c_str()) == 0 || errno != EBUSY; });
    }

    void drain() {
        closed = true;
        for (auto& e : free) {
            e.procs.reset();
            e.events.reset();
            ::rmdir(e.path.c_str());
        }
        free.clear();
        // At shutdown a moment's wait is fine: killed processes take a little while to be gone.
        for (int i = 0; i < 200 && !dying.empty(); ++i) {
            sweep();
            if (!dying.empty()) {
                ::usleep(1000);
            }
        }
    }
    ~leaf_pool() { drain(); }
};

cgroup_root::cgroup_root(std::string path) : path_(std::move(path)), pool_(std::make_shared<leaf_pool>()) {}

cgroup_root::cgroup_root(cgroup_root&& o) noexcept
    : path_(std::exchange(o.path_, {})), pool_(std::move(o.pool_)) {}

cgroup_root& cgroup_root::operator=(cgroup_root&& o) noexcept {
    std::swap(path_, o.path_);
    std::swap(pool_, o.pool_);
    return *this;
}

cgroup_root::~cgroup_root() {
    if (pool_) {
        pool_->drain();
    }
    if (!path_.empty()) {
        ::rmdir(path_.c_str());
    }
}

result_info<cgroup_leaf> cgroup_root::make_leaf(std::uint64_t id) const {
    if (!pool_->dying.empty()) {
        pool_->sweep();
    }
    if (!pool_->free.empty()) {
        auto e = std::move(pool_->free.back());
        pool_->free.pop_back();
        return cgroup_leaf(std::move(e.path), std::move(e.procs), std::move(e.events), pool_);
    }
    std::string path = fmt::format("{}/job-{}", path_, id);
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
        return error_info{make_error_code(errc::spawn_failed),
                          fmt::format("cannot create cgroup {}: {}", path, std::strerror(errno))};
    }
    // Both kept open: populated() is asked at least twice per job and members() at every stop signal,
    // and re-reading an open kernfs file from offset 0 is cheaper than a path walk each time. The
    // member list is read through the same descriptor the child writes "0" into.
    unique_fd procs(::open((path + "/cgroup.procs").c_str(), O_RDWR | O_CLOEXEC));
    unique_fd events(::open((path + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC));
    if (!procs || !events) {
        int err = errno;
        ::rmdir(path.c_str());
        return error_info{make_error_code(errc::spawn_failed),
                          fmt::format("cannot open the files of cgroup {}: {}", path, std::strerror(err))};
    }
    return cgroup_leaf(std::move(path), std::move(procs), std::move(events), pool_);
}

cgroup_leaf::cgroup_leaf(std::string path, unique_fd procs, unique_fd events, std::shared_ptr<leaf_pool> pool)
    : path_(std::move(path)), procs_(std::move(procs)), events_(std::move(events)), pool_(std::move(pool)) {}

cgroup_leaf::~cgroup_leaf() {
    if (path_.empty()) {
        return;
    }
    if (pool_ && !pool_->closed && pool_->free.size() < leaf_pool::max_free && !populated()) {
        pool_->free.push_back({std::move(path_), std::move(procs_), std::move(events_)});
        return;
    }
    procs_.reset();
    events_.reset();
    if (::rmdir(path_.c_str()) != 0 && errno == EBUSY) {
        // Still populated: the owner (child) kills the tree before this; make sure nothing survives.
        // The killed processes take a moment to go; the directory is removed once they have, by a
        // later make_leaf() or the root, so the core's thread never sleeps here.
        kill();
        if (pool_ && ::rmdir(path_.c_str()) != 0 && errno == EBUSY) {
            pool_->dying.push_back(std::move(path_));
        }
    }
}

void cgroup_leaf::kill() {
    write_file(path_ + "/cgroup.kill", "1");
}

void cgroup_leaf::signal(int signal) {
    if (signal == SIGKILL) {
        kill();
        return;
    }
    std::set<int> sent;
    for (int pass = 0; pass < 4; ++pass) {
        bool any_new = false;
        for (int pid : members()) {
            if (sent.insert(pid).second) {
                ::kill(pid, signal);
                any_new = true;
            }
        }
        if (!any_new) {
            break;
        }
    }
}

bool cgroup_leaf::populated() const {
    return read_from_start(events_.get()).find("populated 1") != std::string::npos;
}

std::vector<int> cgroup_leaf::members() const {
    std::vector<int> pids;
    const std::string text = read_from_start(procs_.get());  // one pid per line
    for (const char *p = text.data(), *end = p + text.size(); p < end; ++p) {
        int pid = 0;
        p = std::from_chars(p, end, pid).ptr;
        if (pid > 0) {
            pids.push_back(pid);
        }
    }
    return pids;
}

}  // namespace corral::proc
