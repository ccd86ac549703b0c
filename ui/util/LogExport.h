#pragma once

#include "backend/ConsoleTypes.h"

#include <QByteArray>
#include <QList>

namespace sb::ui::logexport {

// CSV (RFC 4180, header row, UTF-8): id, ts, time, source, target, to, event, delivered,
// remote, data (the JSON text).
QByteArray csv(const QList<LogRecord> &records);
// A JSON array of records in the shape of GET /api/log, `data` exactly as logged.
QByteArray json(const QList<LogRecord> &records);

} // namespace sb::ui::logexport
