#pragma once

class QCommandLineParser;
class QString;

namespace sb {

// What switchboardd and switchboard both do before parsing: name the application `program`
// (with the build's version) and give `parser` the description, --help, --version and the
// server's configuration flags (ConfigLoader). Each main adds its own options after it.
void setUpCommandLine(QCommandLineParser &parser, const QString &program,
                      const QString &description);

} // namespace sb
