#include "sqlite_db.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

namespace corral::store {
namespace {

[[noreturn]] void fail(sqlite3* db, std::string_view doing) {
    throw sqlite_error(fmt::format("{}: {}", doing, sqlite3_errmsg(db)));
}

}  // namespace

statement::statement(sqlite3* db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v3(
            db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
        SQLITE_OK) {
        fail(db, fmt::format("cannot prepare '{}'", sql.substr(0, 60)));
    }
}

statement::~statement() {
    sqlite3_finalize(stmt_);
}

statement& statement::bind(int index, std::int64_t value) {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) {
        fail(db_, "bind");
    }
    return *this;
}

statement& statement::bind(int index, double value) {
    if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK) {
        fail(db_, "bind");
    }
    return *this;
}

statement& statement::bind(int index, std::string_view value) {
    if (sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT) !=
        SQLITE_OK) {
        fail(db_, "bind");
    }
    return *this;
}

statement& statement::bind(int index, std::nullptr_t) {
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) {
        fail(db_, "bind");
    }
    return *this;
}

bool statement::step() {
    switch (sqlite3_step(stmt_)) {
        case SQLITE_ROW:
            return true;
        case SQLITE_DONE:
            return false;
        default: {
            // Reset before throwing: a statement left mid-step refuses every later bind ("bad parameter
            // or other API misuse"), and one failed commit then failed every commit after it.
            sqlite_error error(fmt::format(
                "'{}': {}", std::string_view(sqlite3_sql(stmt_)).substr(0, 60), sqlite3_errmsg(db_)));
            sqlite3_reset(stmt_);
            sqlite3_clear_bindings(stmt_);
            throw error;
        }
    }
}

void statement::run() {
    while (step()) {
    }
    reset();
}

void statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

bool statement::is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t statement::integer(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

double statement::real(int column) const {
    return sqlite3_column_double(stmt_, column);
}

std::string statement::text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
}

database::database(const std::string& path) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw sqlite_error(fmt::format("cannot open the database '{}': {}", path, why));
    }
    sqlite3_busy_timeout(db_, 5000);
    sqlite3_extended_result_codes(db_, 1);
}

database::~database() {
    sqlite3_close_v2(db_);
}

void database::exec(std::string_view sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        std::string why = message ? message : sqlite3_errmsg(db_);
        sqlite3_free(message);
        throw sqlite_error(fmt::format("'{}': {}", sql.substr(0, 60), why));
    }
}

std::string database::last_error() const {
    return sqlite3_errmsg(db_);
}

}  // namespace corral::store
