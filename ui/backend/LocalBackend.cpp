#include "backend/LocalBackend.h"

#include "Server.h"
#include "admin/AdminFeed.h"

#include <QFile>
#include <QHostAddress>
#include <QLoggingCategory>
#include <QPointer>
#include <QThread>

namespace sb::ui {

namespace {
// The in-process feed is bounded like an observer socket: past this the console re-attaches.
constexpr qint64 kFeedLimitBytes = 64LL * 1024 * 1024;
} // namespace

LocalBackend::LocalBackend(std::function<ConfigLoader::Result()> loadConfig, QObject *parent)
    : ConsoleBackend(parent),
      m_loadConfig(std::move(loadConfig)),
      m_hostThread(new QThread(this)),
      m_hostAnchor(new QObject)
{
    m_hostThread->setObjectName(QStringLiteral("switchboard-host"));
    m_hostAnchor->moveToThread(m_hostThread);
    connect(m_hostThread, &QThread::finished, m_hostAnchor, &QObject::deleteLater);
    m_hostThread->start();
}

LocalBackend::~LocalBackend()
{
    stopServer(true);
    m_hostThread->quit();
    m_hostThread->wait();
}

void LocalBackend::start()
{
    if (m_server || state() == State::Starting)
        return;
    const ConfigLoader::Result loaded = m_loadConfig();
    if (!loaded.errors.isEmpty()) {
        setState(State::Failed, loaded.errors.join(u'\n'));
        return;
    }
    m_config = loaded.config;
    setState(State::Starting, tr("starting the server on %1").arg(m_config.listen));
    const quint64 generation = ++m_generation;
    QPointer<LocalBackend> self(this);
    const ServerConfig config = m_config;
    // Opening the log and binding happen on the host thread: the window stays responsive.
    QMetaObject::invokeMethod(m_hostAnchor, [self, config, generation] {
        auto *server = new sb::Server(config);
        QString error;
        if (!server->start(&error)) {
            delete server;
            server = nullptr;
        }
        QMetaObject::invokeMethod(
                self.data(),
                [self, server, error, generation] {
                    if (!self || generation != self->m_generation) {
                        if (server) { // superseded: shut it down where it lives
                            QMetaObject::invokeMethod(self ? self->m_hostAnchor : nullptr,
                                                      [server] {
                                                          server->stop();
                                                          delete server;
                                                      });
                        }
                        return;
                    }
                    self->started(server, error);
                },
                Qt::QueuedConnection);
    });
}

void LocalBackend::started(sb::Server *server, const QString &error)
{
    if (!server) {
        setState(State::Failed, error);
        return;
    }
    m_server = server;
    const QUrl base = server->baseUrl();
    m_address = base.toString();
    // REST calls go to loopback even when the server listens on every address.
    QUrl local = base;
    const QHostAddress host(base.host());
    if (host == QHostAddress::Any || host == QHostAddress::AnyIPv4)
        local.setHost(QStringLiteral("127.0.0.1"));
    else if (host == QHostAddress::AnyIPv6)
        local.setHost(QStringLiteral("::1"));
    rest()->setBaseUrl(local);
    rest()->setApiKey(m_config.insecure ? QString() : m_config.apiKey);
    if (m_config.tlsEnabled()) {
        QFile pem(m_config.tlsCert);
        if (pem.open(QIODevice::ReadOnly)) {
            const auto certs = QSslCertificate::fromData(pem.readAll(), QSsl::Pem);
            if (!certs.isEmpty())
                rest()->setTrustedCertificate(certs.first());
        }
    }
    attachFeed();
    setState(State::Live, tr("serving on %1").arg(m_address));
}

void LocalBackend::attachFeed()
{
    if (m_feed)
        m_feed->detach();
    m_feed = std::make_shared<AdminFeed>(kFeedLimitBytes);
    // Runs on the HTTP thread under the feed's lock: only posts. detach() (in stopServer and
    // the destructor) comes before this object goes away, so no post can outlive it.
    m_feed->setNotifier([this] {
        QMetaObject::invokeMethod(this, &LocalBackend::drainFeed, Qt::QueuedConnection);
    });
    if (!m_server->addAdminFeed(m_feed))
        setState(State::Failed, tr("the server is not running"));
}

void LocalBackend::drainFeed()
{
    if (!m_feed)
        return;
    const QList<QByteArray> frames = m_feed->take();
    if (!frames.isEmpty())
        handleFrames(frames);
    if (m_feed && m_feed->isClosed() && m_server) {
        // The console fell behind a flood: start over from a fresh snapshot.
        qWarning("switchboard console: admin feed closed (1013), attaching again");
        attachFeed();
    }
}

void LocalBackend::stop()
{
    if (!m_server && state() != State::Starting)
        return;
    ++m_generation; // a start still under way is shut down when it ends
    stopServer(false);
}

void LocalBackend::restart()
{
    if (m_server) {
        m_restartPending = true;
        stopServer(false);
    } else {
        start();
    }
}

void LocalBackend::stopServer(bool wait)
{
    if (m_feed) {
        m_feed->detach();
        m_feed.reset();
    }
    sb::Server *server = std::exchange(m_server, nullptr);
    if (!server) {
        if (!wait)
            setState(State::Stopped);
        return;
    }
    if (wait) {
        QMetaObject::invokeMethod(
                m_hostAnchor,
                [server] {
                    server->stop();
                    delete server;
                },
                Qt::BlockingQueuedConnection);
        return;
    }
    setState(State::Stopped, tr("stopping"));
    QPointer<LocalBackend> self(this);
    QMetaObject::invokeMethod(m_hostAnchor, [self, server] {
        server->stop();
        delete server;
        QMetaObject::invokeMethod(
                self.data(),
                [self] {
                    if (!self)
                        return;
                    self->setState(State::Stopped);
                    if (std::exchange(self->m_restartPending, false))
                        self->start();
                },
                Qt::QueuedConnection);
    });
}

} // namespace sb::ui
