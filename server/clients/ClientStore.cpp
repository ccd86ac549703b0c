#include "clients/ClientStore.h"

#include "clients/ClientJson.h"
#include "clients/ClientTable.h"
#include "clients/ClientsLogging.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QSaveFile>

namespace sb {

ClientStore::ClientStore(QString dataDir)
    : m_path(dataDir.isEmpty() ? QString() : QDir(dataDir).filePath(QStringLiteral("clients.json")))
{ }

namespace {

std::optional<ClientInfo> readEntry(const QJsonValue &value, QString *why)
{
    const QJsonObject o = value.toObject();
    ClientInfo info;
    info.id = o.value(QStringLiteral("id")).toString();
    if (ClientTable::idNumber(info.id) == 0) {
        *why = QStringLiteral("id is not w<number>");
        return std::nullopt;
    }
    for (const char *key : {"uri", "handler", "room", "event"}) {
        const QJsonValue v = o.value(QLatin1String(key));
        if (!v.isUndefined() && !v.isString()) {
            *why = QStringLiteral("%1 is not a string").arg(QLatin1String(key));
            return std::nullopt;
        }
    }
    info.spec.uri = o.value(QStringLiteral("uri")).toString();
    info.spec.handler = o.value(QStringLiteral("handler")).toString();
    info.spec.room = o.value(QStringLiteral("room")).toString();
    info.spec.event = o.value(QStringLiteral("event")).toString();
    return info;
}

} // namespace

ClientStore::Content
ClientStore::load(const std::function<bool(const ClientSpec &, QString *why)> &check) const
{
    Content content;
    if (m_path.isEmpty() || !QFile::exists(m_path))
        return content;
    QFile file(m_path);
    if (!file.open(QIODevice::ReadOnly)) {
        qCWarning(lcClients).noquote() << "cannot read" << m_path << ":" << file.errorString();
        return content;
    }
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (!doc.isObject()) {
        qCWarning(lcClients).noquote()
                << "ignoring" << m_path << ": not a JSON object (" << error.errorString() << ")";
        return content;
    }
    const QJsonObject root = doc.object();
    content.nextId = quint64(qMax(1.0, root.value(QStringLiteral("next")).toDouble(1)));
    QSet<QString> seen;
    const QJsonArray entries = root.value(QStringLiteral("clients")).toArray();
    for (qsizetype i = 0; i < entries.size(); ++i) {
        QString why;
        std::optional<ClientInfo> info = readEntry(entries[i], &why);
        if (info) // ids are never reused, also those of entries skipped below
            content.nextId = qMax(content.nextId, ClientTable::idNumber(info->id) + 1);
        if (info && seen.contains(info->id))
            why = QStringLiteral("id %1 is listed twice").arg(info->id), info.reset();
        if (info && !check(info->spec, &why))
            info.reset();
        if (!info) {
            qCWarning(lcClients).noquote()
                    << "skipping client" << i << "of" << m_path << ":" << why;
            continue;
        }
        seen.insert(info->id);
        content.clients.append(*info);
    }
    return content;
}

bool ClientStore::save(quint64 nextId, const QList<ClientInfo> &clients) const
{
    if (m_path.isEmpty())
        return true;
    QJsonArray entries;
    for (const ClientInfo &c : clients)
        entries.append(clientSpecJson(c.id, c.spec));
    const QJsonObject root{{QStringLiteral("next"), double(nextId)},
                           {QStringLiteral("clients"), entries}};
    QSaveFile file(m_path);
    const bool ok = file.open(QIODevice::WriteOnly)
            && file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)
            && file.write(QJsonDocument(root).toJson(QJsonDocument::Indented)) >= 0
            && file.commit();
    if (!ok)
        qCWarning(lcClients).noquote() << "cannot write" << m_path << ":" << file.errorString();
    return ok;
}

} // namespace sb
