#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "corral/core/error_info.hpp"
#include "corral/tasks/task_def.hpp"

namespace corral::tasks {

/**
 * The tasks from the config, by name. It checks arguments and turns them into argv.
 *
 * A reload (SIGHUP) assigns a new catalog over this one. Jobs keep the task they were submitted with
 * (share()): a task changed or removed by a reload goes on, as it was, for the jobs that run it.
 *
 * @par Thread safety
 * Immutable after construction; safe to share. Assigning over it is the core's executor's business.
 */
class task_catalog {
  public:
    task_catalog() = default;
    /// Errors: errc::invalid_argument naming every problem (duplicate names, steps naming unknown
    /// tasks or other multi-step tasks, step arguments that do not validate).
    static result_info<task_catalog> create(std::vector<task_def> tasks);

    /// The task named `name`, or null. Valid until the catalog is assigned over: keep share() instead.
    const task_def* find(std::string_view name) const;
    /// `task` (one of this catalog's, or any other, which is then copied) for as long as the caller
    /// holds it, whatever later reloads do to the catalog.
    std::shared_ptr<const task_def> share(const task_def& task) const;
    /// find() and share() in one; null when there is no such task.
    std::shared_ptr<const task_def> find_shared(std::string_view name) const;
    const std::vector<task_def>& all() const { return *tasks_; }
    bool empty() const { return tasks_->empty(); }

    /**
     * Checks `args` against the task's schema and fills in defaults. Every problem is reported at
     * once, each naming its argument: "seconds: must be a whole number, not \"a\"; utc: unknown
     * argument". Errors: errc::invalid_spec.
     */
    static result_info<boost::json::object> validate(const task_def& task, const boost::json::object& args);
    /// The argv for validated `args` (see task_def::command).
    static std::vector<std::string> expand(const task_def& task, const boost::json::object& args);
    /// Positional values (ASEXOR's `args` list) bound to the declared arguments in order, then
    /// `named` (its `kwargs`) on top. Errors: errc::invalid_spec when there are too many.
    static result_info<boost::json::object> bind(const task_def& task,
                                                 const boost::json::array& positional,
                                                 const boost::json::object& named);

  private:
    std::shared_ptr<const std::vector<task_def>> tasks_ = std::make_shared<const std::vector<task_def>>();
    std::map<std::string, std::size_t, std::less<>> by_name_;
};

}  // namespace corral::tasks
