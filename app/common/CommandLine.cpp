#include "CommandLine.h"

#include "config/ConfigLoader.h"

#include <QCommandLineParser>
#include <QCoreApplication>

namespace sb {

void setUpCommandLine(QCommandLineParser &parser, const QString &program,
                      const QString &description)
{
    QCoreApplication::setApplicationName(program);
    QCoreApplication::setApplicationVersion(QStringLiteral(SWITCHBOARD_VERSION));
    parser.setApplicationDescription(description);
    parser.addHelpOption();
    parser.addVersionOption();
    ConfigLoader::addOptions(parser);
}

} // namespace sb
