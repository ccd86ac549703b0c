#include "backend/LocalBackend.h"

#include "Server.h"
#include "admin/AdminFeed.h"
#include "clients/ClientJson.h"
#include "clients/OutboundClients.h"

#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QPointer>
#include <QThread>

namespace sb::ui {

namespace {
// The in-process feed is bounded like an observer socket: past this the console re-attaches.
constexpr qint64 kFeedLimitBytes = 64LL * 1024 * 1024;

bool fail(QString *error, const QString &text)
{
    if (error)
        *error = text;
    return false;
}

// What saving checks besides the loader's checks: what the server would only find out when it
// starts (files it cannot read), and secrets with spaces around them (the file would not
// keep them).
bool checkBeforeSaving(const SettingValues &values, QString *error)
{
    QStringList problems;
    for (const QString &key : {QStringLiteral("tls_cert"), QStringLiteral("tls_key")}) {
        const QString file = values.value(key);
        if (!file.isEmpty() && !QFileInfo(file).isReadable())
            problems << LocalBackend::tr("%1: %2 cannot be read").arg(key, file);
    }
    for (const QString &key : {QStringLiteral("api_key"), QStringLiteral("jwt_secret")}) {
        const QString secret = values.value(key);
        if (secret.trimmed() != secret)
            problems << LocalBackend::tr("%1: no spaces at the start or end").arg(key);
    }
    return problems.isEmpty() || fail(error, problems.join(u'\n'));
}

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

QString LocalBackend::settingsLocation() const
{
    if (!m_config.configPath.isEmpty())
        return m_config.configPath;
    return m_loadConfig().config.configPath; // not started yet: resolved as a start would
}

std::optional<SettingValues> LocalBackend::loadSettings(QString *error) const
{
    const QString path = settingsLocation();
    if (path.isEmpty()) {
        fail(error, tr("The configuration file is not known."));
        return std::nullopt;
    }
    return readConfigFile(path, error);
}

bool LocalBackend::saveSettings(const SettingValues &values, QString *error)
{
    const QString path = settingsLocation();
    std::optional<SettingValues> merged = loadSettings(error);
    if (!merged)
        return false;
    SettingValues changed;
    QStringList removed;
    for (auto it = values.cbegin(); it != values.cend(); ++it) {
        const ConfigKey *key = findConfigKey(it.key());
        if (!key)
            return fail(error, tr("%1: not a setting of the server").arg(it.key()));
        const QString v = key->type == ConfigType::Secret ? it.value() : it.value().trimmed();
        if (v.isEmpty()) {
            removed << it.key();
            merged->remove(it.key());
        } else {
            changed.insert(it.key(), v);
            merged->insert(it.key(), v);
        }
    }
    // The same checks as the server's at start, on the file as it would be.
    QString why;
    if (!ConfigLoader::checkFileValues(*merged, &why) || !checkBeforeSaving(*merged, &why))
        return fail(error, why);
    return writeConfigFile(path, changed, removed, error);
}

bool LocalBackend::canAttachToNode(QString *why) const
{
    if (why)
        *why = tr("This console hosts its own node; to watch another node, start the console "
                  "with --attach and that node's address.");
    return false;
}

} // namespace sb::ui

namespace sb::ui {

sb::OutboundClients *LocalBackend::outboundClients(const Done &done)
{
    sb::OutboundClients *clients = m_server ? m_server->context().clients : nullptr;
    if (!clients) {
        RestClient::Reply reply;
        reply.error = tr("the server is not running");
        answer(done, reply);
    }
    return clients;
}

void LocalBackend::answer(const Done &done, const RestClient::Reply &reply)
{
    QMetaObject::invokeMethod(
            this, [done, reply] { done(reply); }, Qt::QueuedConnection);
}

void LocalBackend::answerError(const Done &done, const sb::CommandError &error)
{
    RestClient::Reply reply;
    reply.status = error.status;
    reply.body =
            QJsonDocument(QJsonObject{{QStringLiteral("error"),
                                       QJsonObject{{QStringLiteral("code"), error.code},
                                                   {QStringLiteral("message"), error.message}}}})
                    .toJson(QJsonDocument::Compact);
    reply.error = RestClient::errorMessage(reply.status, reply.body); // as a remote one reads
    answer(done, reply);
}

void LocalBackend::createClient(const ClientRequest &request, Done done)
{
    sb::OutboundClients *clients = outboundClients(done);
    if (!clients)
        return;
    const sb::ClientSpec spec{request.uri, request.handler, request.room, request.event};
    sb::CommandError error;
    const std::optional<sb::ClientInfo> created = clients->create(spec, &error);
    if (!created) {
        answerError(done, error);
        return;
    }
    RestClient::Reply reply;
    reply.status = 201;
    reply.body = QJsonDocument(sb::clientJson(*created)).toJson(QJsonDocument::Compact);
    answer(done, reply);
}

void LocalBackend::sendToClient(const QString &id, const QString &text, Done done)
{
    sb::OutboundClients *clients = outboundClients(done);
    if (!clients)
        return;
    sb::CommandError error;
    if (!clients->send(id, text, &error)) {
        answerError(done, error);
        return;
    }
    RestClient::Reply reply;
    reply.status = 200;
    reply.body = QByteArrayLiteral("{\"ok\":true}");
    answer(done, reply);
}

void LocalBackend::closeClient(const QString &id, Done done)
{
    sb::OutboundClients *clients = outboundClients(done);
    if (!clients)
        return;
    if (!clients->remove(id)) {
        sb::CommandError error;
        error.status = 404;
        error.code = QStringLiteral("not_found");
        error.message = tr("no client %1").arg(id);
        answerError(done, error);
        return;
    }
    RestClient::Reply reply;
    reply.status = 204;
    answer(done, reply);
}

} // namespace sb::ui
