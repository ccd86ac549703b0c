#pragma once

#include "store/LogWriter.h"

#include <QString>

namespace sb {

struct LogState;

// The journal replay at open: every record of the journal file goes into the database before
// anything else, as an INSERT that leaves ids the database has alone (ON CONFLICT DO
// NOTHING): the records answered but not committed when the process ended, wherever they are
// (below the highest stored id too, where a previous version may have left a hole). The
// records go through a LogWriter on the calling thread (its queue in `state`, left empty).
//
// False with *error when the journal cannot be read or its records cannot be written.
// *unreadableUpTo is set to the highest id of a record that could not be read (0: none): its
// id was given out all the same, and ids go on above it.
bool replayJournal(const LogWriter::Settings &settings, LogState &state, quint64 *unreadableUpTo,
                   QString *error);

} // namespace sb
