#pragma once

#include "store/LogDatabase.h"

#include <QString>

#include <optional>

namespace sb {

// The log's storage before the writer starts: the SQLite file private, the tables and
// indexes, and the bounds of what the database holds.

// SQLite: creates the file's directory and makes the file (and the -wal and -shm files beside
// it) readable by their owner only (mode 0600). Nothing to do for PostgreSQL. False with
// *error ("log_database: ...") when that fails.
bool prepareLogFile(const LogDatabase &db, QString *error);

// Creates the tables and indexes the log needs, where they are missing (the same DDL for both
// drivers), on a connection of this thread closed again right after. False with *error (the
// database's error).
bool createLogSchema(const LogDatabase &db, const void *owner, QString *error);

struct LogBounds
{
    quint64 lastId = 0; // the highest id stored (0: none)
    // What retention has deleted: every id below the oldest row (ids start at 1; rows are
    // deleted oldest first). nullopt for an empty table, which says nothing.
    std::optional<quint64> prunedUpTo;
};
// The bounds of what the database holds, on a connection of this thread closed right after.
std::optional<LogBounds> readLogBounds(const LogDatabase &db, const void *owner, QString *error);

} // namespace sb
