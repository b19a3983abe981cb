#pragma once

#include "sqlite_db.hpp"

namespace corral::store {

/// The schema version this build writes (SQLite's `user_version`).
int schema_version();

/// Brings the database up to schema_version(), one numbered migration per transaction, so a crash
/// mid-way leaves a database at the last whole version. Throws sqlite_error when the file is from a
/// newer corral (its version is higher than ours) or a migration fails.
void migrate(database& db);

}  // namespace corral::store
