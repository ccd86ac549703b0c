#pragma once

class QCommandLineParser;
class QCoreApplication;

namespace sb {

// Runs the server with no display: resolves the configuration from `parser` (flags,
// environment, file), prints errors, notices and the listening address prefixed with
// `program`, serves until SIGINT/SIGTERM, then shuts down (close code 1001 to clients).
// Returns the process exit code: 0 after a clean stop, 1 when the server cannot start,
// 2 for a configuration error. Shared by switchboardd and `switchboard --headless`.
int runHeadless(QCoreApplication &app, const QCommandLineParser &parser, const char *program);

} // namespace sb
