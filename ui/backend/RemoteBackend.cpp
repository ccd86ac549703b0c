#include "backend/RemoteBackend.h"

#include <QHostAddress>
#include <QNetworkRequest>
#include <QTimer>
#include <QWebSocket>

namespace sb::ui {

namespace {
constexpr int kMinDelayMs = 1000;
constexpr int kMaxDelayMs = 15000;
} // namespace

RemoteBackend::RemoteBackend(const QUrl &baseUrl, const QString &apiKey, QObject *parent)
    : ConsoleBackend(parent), m_base(baseUrl), m_apiKey(apiKey), m_retry(new QTimer(this))
{
    m_retry->setSingleShot(true);
    connect(m_retry, &QTimer::timeout, this, &RemoteBackend::open);
    rest()->setBaseUrl(m_base);
    rest()->setApiKey(m_apiKey);
}

RemoteBackend::~RemoteBackend()
{
    m_wanted = false;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

QString RemoteBackend::checkBaseUrl(const QUrl &base)
{
    if (!base.isValid() || base.host().isEmpty())
        return tr("'%1' is not a URL such as http://host:8080").arg(base.toString());
    if (base.scheme() != u"http" && base.scheme() != u"https")
        return tr("'%1' must start with http:// or https://").arg(base.toString());
    return {};
}

QUrl RemoteBackend::adminUrl(const QUrl &base)
{
    if (!checkBaseUrl(base).isEmpty())
        return {};
    QUrl url = base;
    url.setScheme(base.scheme() == u"https" ? QStringLiteral("wss") : QStringLiteral("ws"));
    url.setPath(QStringLiteral("/admin"));
    url.setQuery(QString());
    return url;
}

QUrl RemoteBackend::nodeBaseUrl(const QUrl &current, const QString &address)
{
    QUrl url(current.scheme() + QStringLiteral("://") + address);
    if (!url.isValid() || url.port() <= 0)
        return {};
    const QHostAddress host(url.host());
    if (url.host().isEmpty() || host == QHostAddress::AnyIPv4 || host == QHostAddress::AnyIPv6)
        url.setHost(current.host());
    return url;
}

bool RemoteBackend::canAttachToNode(QString *) const
{
    return true;
}

bool RemoteBackend::attachToNode(const NodeInfo &node, QString *error)
{
    const QUrl base = nodeBaseUrl(m_base, node.address);
    if (base.isEmpty()) {
        if (error)
            *error = tr("node %1 has no address to attach to ('%2')").arg(node.name, node.address);
        return false;
    }
    stop();
    m_base = base;
    rest()->setBaseUrl(m_base);
    start();
    return true;
}

std::optional<SettingValues> RemoteBackend::loadSettings(QString *error) const
{
    if (error)
        *error = tr("The settings of a remote server are edited in its configuration file, on "
                    "its machine.");
    return std::nullopt;
}

bool RemoteBackend::saveSettings(const SettingValues &, QString *error)
{
    return loadSettings(error).has_value();
}

void RemoteBackend::start()
{
    if (m_wanted)
        return;
    m_wanted = true;
    m_delayMs = kMinDelayMs;
    const QString problem = checkBaseUrl(m_base);
    if (!problem.isEmpty()) {
        m_wanted = false;
        setState(State::Failed, problem);
        return;
    }
    open();
}

void RemoteBackend::stop()
{
    m_wanted = false;
    m_retry->stop();
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->close();
        m_socket->deleteLater();
        m_socket = nullptr;
    }
    setState(State::Stopped);
}

void RemoteBackend::open()
{
    if (!m_wanted)
        return;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
    }
    m_socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    // A large stream (snapshots of many connections) is fine; the limit guards memory.
    m_socket->setMaxAllowedIncomingMessageSize(256LL * 1024 * 1024);
    if (state() != State::Reconnecting)
        setState(State::Starting, tr("connecting to %1").arg(m_base.toString()));
    connect(m_socket, &QWebSocket::connected, this, [this] {
        m_delayMs = kMinDelayMs;
        setState(State::Live, tr("attached to %1").arg(m_base.toString()));
    });
    connect(m_socket, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
        // Frames that arrive in one burst are handled as one batch.
        if (m_pending.isEmpty())
            QTimer::singleShot(0, this, [this] { handleFrames(std::exchange(m_pending, {})); });
        m_pending.append(text.toUtf8());
    });
    connect(m_socket, &QWebSocket::disconnected, this, [this] {
        QWebSocket *socket = m_socket;
        if (!socket)
            return;
        const int code = socket->closeCode();
        QString why = socket->closeReason();
        if (why.isEmpty())
            why = socket->errorString();
        if (!m_pending.isEmpty())
            handleFrames(std::exchange(m_pending, {}));
        // The handshake's answer: 401 means the key is wrong, which retrying cannot fix.
        const QString error = socket->errorString();
        if (error.contains(u"401")) {
            m_wanted = false;
            setState(State::Failed,
                     tr("the server refused the API key (401) at %1")
                             .arg(adminUrl(m_base).toString()));
            return;
        }
        scheduleReconnect(code == 1013            ? tr("the console fell behind (1013)")
                                  : why.isEmpty() ? tr("connection lost")
                                                  : why);
    });
    QNetworkRequest request(adminUrl(m_base));
    if (!m_apiKey.isEmpty())
        request.setRawHeader("X-API-Key", m_apiKey.toUtf8());
    m_socket->open(request);
}

void RemoteBackend::scheduleReconnect(const QString &why)
{
    if (!m_wanted)
        return;
    setState(State::Reconnecting,
             tr("%1; retrying in %2 s").arg(why).arg(qMax(1, m_delayMs / 1000)));
    m_retry->start(m_delayMs);
    m_delayMs = qMin(kMaxDelayMs, m_delayMs * 2);
}

} // namespace sb::ui
