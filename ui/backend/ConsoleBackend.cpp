#include "backend/ConsoleBackend.h"

#include "base/RawJson.h"
#include "config/ConfigLoader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QUrl>

namespace sb::ui {

Q_LOGGING_CATEGORY(lcConsole, "switchboard.console")

namespace {

SettingSpec::Type settingType(ConfigType type)
{
    switch (type) {
    case ConfigType::Integer:
        return SettingSpec::Type::Integer;
    case ConfigType::Boolean:
        return SettingSpec::Type::Boolean;
    case ConfigType::Text:
        return SettingSpec::Type::Text;
    case ConfigType::Secret:
        return SettingSpec::Type::Secret;
    case ConfigType::Path:
        return SettingSpec::Type::Path;
    case ConfigType::Choice:
        return SettingSpec::Type::Choice;
    case ConfigType::List:
        return SettingSpec::Type::List;
    }
    return SettingSpec::Type::Text;
}

} // namespace

ConsoleBackend::ConsoleBackend(QObject *parent) : QObject(parent), m_rest(new RestClient(this))
{
    qRegisterMetaType<sb::ui::AdminFrameReader::Snapshot>();
    qRegisterMetaType<QList<sb::ui::LiveChange>>();
    qRegisterMetaType<QList<sb::ui::LogRecord>>();
    qRegisterMetaType<sb::ui::ServerStats>();
    qRegisterMetaType<QList<sb::ui::NodeInfo>>();
    qRegisterMetaType<QList<sb::ui::EndpointEntry>>();
    qRegisterMetaType<QList<sb::ui::OutboundClient>>();
}

ConsoleBackend::~ConsoleBackend() = default;

QList<SettingSpec> ConsoleBackend::settingsSchema()
{
    QList<SettingSpec> specs;
    for (const ConfigKey &key : configSchema()) {
        SettingSpec spec;
        spec.key = configKeyName(key);
        spec.type = settingType(key.type);
        spec.minimum = key.min;
        spec.maximum = key.max;
        spec.defaultValue = QString::fromLatin1(key.defaultValue);
        spec.unit = key.valueName ? QString::fromLatin1(key.valueName) : QString();
        spec.choices = configChoices(key);
        spec.help = QString::fromUtf8(key.help);
        specs.append(spec);
    }
    return specs;
}

std::optional<SettingSpec> ConsoleBackend::settingSpec(const QString &key)
{
    for (const SettingSpec &spec : settingsSchema()) {
        if (spec.key == key)
            return spec;
    }
    return std::nullopt;
}

QString ConsoleBackend::generateSecret()
{
    return QString::fromLatin1(ConfigLoader::generateSecret());
}

QString ConsoleBackend::stateName(State state)
{
    switch (state) {
    case State::Stopped:
        return tr("stopped");
    case State::Starting:
        return tr("starting");
    case State::Live:
        return tr("live");
    case State::Reconnecting:
        return tr("reconnecting");
    case State::Failed:
        return tr("failed");
    }
    return {};
}

void ConsoleBackend::setState(State state, const QString &detail)
{
    if (state == m_state && detail == m_stateDetail)
        return;
    m_state = state;
    m_stateDetail = detail;
    Q_EMIT stateChanged(state, detail);
}

void ConsoleBackend::handleFrames(const QList<QByteArray> &frames)
{
    QList<LiveChange> changes;
    QList<LogRecord> records;
    quint64 dropped = 0;
    std::optional<ServerStats> stats;
    std::optional<QList<NodeInfo>> nodes;
    std::optional<QList<EndpointEntry>> endpoints;
    std::optional<QList<OutboundClient>> clients;
    const auto flush = [&] {
        if (!changes.isEmpty())
            Q_EMIT liveChanges(std::exchange(changes, {}));
        if (!records.isEmpty() || dropped > 0)
            Q_EMIT recordsReceived(std::exchange(records, {}), std::exchange(dropped, 0));
    };
    for (const QByteArray &text : frames) {
        AdminFrameReader::Frame frame = AdminFrameReader::read(text);
        if (frame.type.isEmpty()) {
            qCWarning(lcConsole).noquote() << "admin stream frame ignored:" << frame.error;
        } else if (frame.type == u"snapshot") {
            flush(); // what came before the snapshot is part of it
            changes.clear();
            records.clear();
            nodes.reset();
            Q_EMIT snapshotReceived(frame.snapshot);
            setNodes(frame.snapshot.nodes, true);
            endpoints = frame.snapshot.endpoints;
            clients = frame.snapshot.clients;
        } else if (frame.live) {
            // Keep the order between changes and records: a change after records of this
            // batch is fine to apply after them (they refer to different views).
            changes.append(*frame.live);
        } else if (frame.type == u"messages") {
            records.append(frame.records);
            dropped += frame.dropped;
        } else if (frame.type == u"stats") {
            stats = frame.stats;
        } else if (frame.type == u"nodes") {
            nodes = frame.nodes;
        } else if (frame.type == u"endpoints") {
            endpoints = frame.endpoints;
        } else if (frame.type == u"clients") {
            clients = frame.clients;
        }
    }
    flush();
    if (stats)
        Q_EMIT statsReceived(*stats);
    if (nodes)
        setNodes(*nodes, false);
    setLists(std::move(endpoints), std::move(clients));
}

void ConsoleBackend::setLists(std::optional<QList<EndpointEntry>> endpoints,
                              std::optional<QList<OutboundClient>> clients)
{
    if (endpoints) {
        m_endpoints = std::move(*endpoints);
        Q_EMIT endpointsChanged(m_endpoints);
    }
    if (clients) {
        m_clients = std::move(*clients);
        Q_EMIT clientsChanged(m_clients);
    }
}

void ConsoleBackend::setNodes(const QList<NodeInfo> &nodes, bool fromSnapshot)
{
    m_nodes = nodes;
    Q_EMIT nodesChanged(m_nodes);
    if (!fromSnapshot)
        return;
    ++m_snapshots;
    if (nodes.isEmpty())
        setAttachedNode(QString());
    else
        findAttachedNode();
}

// GET /api/health names the node that answers (its "cluster" member); without an answer, the node
// whose address has this backend's port.
void ConsoleBackend::findAttachedNode()
{
    const quint64 snapshot = m_snapshots;
    m_rest->get(QStringLiteral("/api/health"), [this, snapshot](const RestClient::Reply &reply) {
        if (snapshot != m_snapshots)
            return;
        QString name = QJsonDocument::fromJson(reply.body)
                               .object()
                               .value(u"cluster")
                               .toObject()
                               .value(u"node")
                               .toString();
        const int port = QUrl(address()).port();
        for (const NodeInfo &n : std::as_const(m_nodes)) {
            if (name.isEmpty() && port > 0 && n.address.endsWith(u':' + QString::number(port)))
                name = n.name;
        }
        setAttachedNode(name);
    });
}

void ConsoleBackend::setAttachedNode(const QString &node)
{
    if (node == m_attachedNode)
        return;
    m_attachedNode = node;
    Q_EMIT attachedNodeChanged(node);
}

QString ConsoleBackend::targetPath(Target target)
{
    switch (target) {
    case Target::All:
        return QStringLiteral("/api/emit/all");
    case Target::Room:
        return QStringLiteral("/api/emit/room");
    case Target::User:
        return QStringLiteral("/api/emit/user");
    case Target::Connection:
        return QStringLiteral("/api/emit/connection");
    }
    return {};
}

void ConsoleBackend::emitEvent(Target target, const QString &to, const QString &event,
                               const QByteArray &dataText, Done done)
{
    // The data goes out as the text the administrator typed (digits and key order intact).
    QByteArray body = "{";
    switch (target) {
    case Target::All:
        break;
    case Target::Room:
        body += "\"room\":" + rawjson::quote(to) + ',';
        break;
    case Target::User:
        body += "\"user\":" + rawjson::quote(to) + ',';
        break;
    case Target::Connection:
        body += "\"connection\":" + rawjson::quote(to) + ',';
        break;
    }
    body += "\"event\":" + rawjson::quote(event);
    if (!dataText.trimmed().isEmpty())
        body += ",\"data\":" + dataText;
    body += '}';
    m_rest->post(targetPath(target), body, std::move(done));
}

void ConsoleBackend::disconnectConnection(const QString &id, Done done)
{
    m_rest->del(QStringLiteral("/api/connections/")
                        + QString::fromLatin1(QUrl::toPercentEncoding(id)),
                std::move(done));
}

void ConsoleBackend::sendRawText(const QString &id, const QString &text, Done done)
{
    m_rest->post(QStringLiteral("/api/connections/")
                         + QString::fromLatin1(QUrl::toPercentEncoding(id))
                         + QStringLiteral("/send"),
                 "{\"text\":" + rawjson::quote(text) + '}', std::move(done));
}

QByteArray ConsoleBackend::clientRequestBody(const ClientRequest &request)
{
    QByteArray body = "{\"uri\":" + rawjson::quote(request.uri);
    if (!request.handler.isEmpty())
        body += ",\"handler\":" + rawjson::quote(request.handler);
    else
        body += ",\"room\":" + rawjson::quote(request.room)
                + ",\"event\":" + rawjson::quote(request.event);
    return body + '}';
}

void ConsoleBackend::createClient(const ClientRequest &request, Done done)
{
    m_rest->post(QStringLiteral("/api/clients"), clientRequestBody(request), std::move(done));
}

void ConsoleBackend::sendToClient(const QString &id, const QString &text, Done done)
{
    m_rest->post(QStringLiteral("/api/clients/") + QString::fromLatin1(QUrl::toPercentEncoding(id))
                         + QStringLiteral("/send"),
                 "{\"text\":" + rawjson::quote(text) + '}', std::move(done));
}

void ConsoleBackend::closeClient(const QString &id, Done done)
{
    m_rest->del(QStringLiteral("/api/clients/") + QString::fromLatin1(QUrl::toPercentEncoding(id)),
                std::move(done));
}

void ConsoleBackend::fetchLog(const LogFilter &filter,
                              std::function<void(const QList<LogRecord> &, const QString &)> done)
{
    QString query;
    const auto add = [&query](const QString &key, const QString &value) {
        if (value.isEmpty())
            return;
        if (!query.isEmpty())
            query += u'&';
        query += key + u'=' + QString::fromLatin1(QUrl::toPercentEncoding(value));
    };
    add(QStringLiteral("room"), filter.room);
    add(QStringLiteral("user"), filter.user);
    add(QStringLiteral("event"), filter.event);
    if (filter.beforeId > 0)
        add(QStringLiteral("before_id"), QString::number(filter.beforeId));
    add(QStringLiteral("limit"), QString::number(qBound(1, filter.limit, 1000)));
    m_rest->get(QStringLiteral("/api/log?") + query,
                [done = std::move(done)](const RestClient::Reply &reply) {
                    if (!reply.ok()) {
                        done({}, reply.error);
                        return;
                    }
                    QString error;
                    const QList<LogRecord> records = AdminFrameReader::records(reply.body, &error);
                    done(records, error);
                });
}

void ConsoleBackend::fetchConnections(
        std::function<void(const QList<ConnectionInfo> &, const QString &)> done)
{
    m_rest->get(QStringLiteral("/api/connections"),
                [done = std::move(done)](const RestClient::Reply &reply) {
                    if (!reply.ok()) {
                        done({}, reply.error);
                        return;
                    }
                    QList<ConnectionInfo> out;
                    const QJsonArray array = QJsonDocument::fromJson(reply.body).array();
                    for (const QJsonValue &v : array)
                        out.append(AdminFrameReader::connection(v.toObject()));
                    done(out, QString());
                });
}

} // namespace sb::ui
