#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace corral::store {

/// What SQLite said, with what we were doing. Thrown inside the store; the store's public functions
/// turn it into errc::store_failed.
struct sqlite_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// One prepared statement: bind by position (1-based), step, read columns (0-based), reset to reuse.
class statement {
  public:
    statement(sqlite3* db, std::string_view sql);
    ~statement();
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;

    statement& bind(int index, std::int64_t value);
    statement& bind(int index, double value);
    statement& bind(int index, std::string_view value);
    statement& bind(int index, std::nullptr_t);
    template <class T>
    statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind(index, nullptr);
    }
    /// Runs one step: true while it yields a row.
    bool step();
    /// Runs it to the end (for statements without rows), then resets it.
    void run();
    void reset();

    bool is_null(int column) const;
    std::int64_t integer(int column) const;
    double real(int column) const;
    std::string text(int column) const;

  private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

/// One connection. Made for one thread at a time (the store's writer, or the loader before it).
class database {
  public:
    /// Opens (or creates) the file, in WAL mode, with a busy timeout. Throws sqlite_error.
    explicit database(const std::string& path);
    ~database();
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    void exec(std::string_view sql);
    sqlite3* handle() const { return db_; }
    /// The message of the last failure on this connection.
    std::string last_error() const;

  private:
    sqlite3* db_ = nullptr;
};

}  // namespace corral::store
