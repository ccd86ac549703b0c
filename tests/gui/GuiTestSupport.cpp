#include "GuiTestSupport.h"

#include "config/ConfigLoader.h"

#include <QSignalSpy>
#include <QTest>

namespace sbgui {

HostedServer::HostedServer()
{
    sb::ConfigLoader::addOptions(m_parser);
    m_parser.process(QStringList{QStringLiteral("switchboard"), QStringLiteral("--listen"),
                                 QStringLiteral("127.0.0.1:0"), QStringLiteral("--data-dir"),
                                 m_dir.path(), QStringLiteral("--api-key"),
                                 QString::fromLatin1(kApiKey), QStringLiteral("--jwt-secret"),
                                 QString::fromLatin1(kJwtSecret), QStringLiteral("--log-level"),
                                 QStringLiteral("warning")});
    const QCommandLineParser *parser = &m_parser;
    m_backend = std::make_unique<sb::ui::LocalBackend>(
            [parser] { return sb::ConfigLoader::load(*parser); });
}

bool HostedServer::start(int timeoutMs)
{
    QSignalSpy snapshots(m_backend.get(), &sb::ui::ConsoleBackend::snapshotReceived);
    m_backend->start();
    return snapshots.count() > 0 || snapshots.wait(timeoutMs);
}

quint16 HostedServer::port() const
{
    return quint16(QUrl(m_backend->address()).port());
}

} // namespace sbgui
