#pragma once
// What the console tests share: a hosted server (LocalBackend) on 127.0.0.1:0 with a fresh
// data dir, and the HTTP/WebSocket clients that play the database and the browsers.
#include "backend/LocalBackend.h"

#include <QCommandLineParser>
#include <QTemporaryDir>

#include <memory>

namespace sbgui {

inline const QByteArray kApiKey = QByteArrayLiteral("gui-test-key");
inline const QByteArray kJwtSecret = QByteArrayLiteral("gui-test-secret");

// The configuration a hosted console gets from its command line.
class HostedServer
{
public:
    HostedServer();
    sb::ui::LocalBackend *backend() const { return m_backend.get(); }
    // Starts the server and waits until the first snapshot has arrived. False on failure.
    bool start(int timeoutMs = 15000);
    quint16 port() const;
    QString dataDir() const { return m_dir.path(); }

private:
    QTemporaryDir m_dir;
    QCommandLineParser m_parser;
    std::unique_ptr<sb::ui::LocalBackend> m_backend;
};

} // namespace sbgui
