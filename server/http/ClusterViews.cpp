#include "http/ClusterViews.h"

#include "admin/AdminJson.h"
#include "admin/StatsSampler.h"
#include "auth/RevocationList.h"
#include "base/Logging.h"
#include "cluster/Cluster.h"
#include "context/ServerContext.h"
#include "hub/Hub.h"

#include <QJsonArray>
#include <QSet>

namespace sb {

namespace {

HttpReply notFoundConnection(const QString &id)
{
    return HttpReply::error(404, u"not_found",
                            QStringLiteral("connection '%1' is not open").arg(id.left(100)));
}

HttpReply redisDown()
{
    return HttpReply::error(
            CommandError{503, QStringLiteral("unavailable"),
                         QStringLiteral("the cluster's Redis is unreachable; retry"), 1});
}

// Each entry of every answer's `key` array, with the answering node's name.
QJsonArray concatWithNode(const QList<QJsonObject> &answers, QStringView key)
{
    QJsonArray out;
    for (const QJsonObject &a : answers) {
        const QString node = a.value(u"node").toString();
        for (const QJsonValue &v : a.value(key).toArray()) {
            QJsonObject o = v.toObject();
            o.insert(QStringLiteral("node"), node);
            out.append(o);
        }
    }
    return out;
}

// The connection's node, or 0 when the id names none (a single node's c<m>).
quint64 nodeOf(const QString &id)
{
    return connectionNode(parseConnectionId(id));
}

} // namespace

QJsonObject ClusterViews::answer(const QString &op, const QJsonObject &args) const
{
    Hub *hub = m_context->hub;
    const ConnId id = parseConnectionId(args.value(u"id").toString());
    if (op == u"connections") {
        // An absent filter is a null string: no filter (an empty one filters on "").
        const auto filter = [&args](QStringView key) {
            return args.contains(key) ? args.value(key).toString() : QString();
        };
        QJsonArray out;
        for (const ConnectionSnapshot &c : hub->connections(filter(u"room"), filter(u"user")))
            out.append(connectionJson(c));
        return {{QStringLiteral("connections"), out}};
    }
    if (op == u"connection") {
        const auto c = hub->connection(id);
        return c ? QJsonObject{{QStringLiteral("connection"), connectionJson(*c)}} : QJsonObject{};
    }
    if (op == u"close")
        return {{QStringLiteral("closed"), hub->closeConnectionWithCode(id, 4000)}};
    if (op == u"send")
        return {{QStringLiteral("sent"),
                 hub->sendRaw(id, args.value(u"text").toString().toUtf8())}};
    if (op == u"rooms")
        return roomsAnswer();
    if (op == u"room") {
        QJsonArray members;
        for (const RoomMember &m : hub->roomMembers(args.value(u"room").toString()))
            members.append(QJsonObject{{QStringLiteral("connection"), connectionIdText(m.id)},
                                       {QStringLiteral("user"), m.user},
                                       {QStringLiteral("session"), m.session},
                                       {QStringLiteral("since"), double(m.sinceMs)}});
        return {{QStringLiteral("members"), members}};
    }
    if (op == u"stats")
        return statsAnswer();
    if (op == u"revoke")
        return revokeAnswer(args);
    return {{QStringLiteral("error"), QStringLiteral("unknown question")}};
}

QJsonObject ClusterViews::roomsAnswer() const
{
    QJsonArray rooms;
    for (const RoomSummary &r : m_context->hub->rooms()) {
        QSet<QString> users;
        for (const RoomMember &m : m_context->hub->roomMembers(r.room))
            users.insert(m.user);
        rooms.append(
                QJsonObject{{QStringLiteral("room"), r.room},
                            {QStringLiteral("connections"), double(r.connections)},
                            {QStringLiteral("users"), QJsonArray::fromStringList(users.values())}});
    }
    return {{QStringLiteral("rooms"), rooms}};
}

QJsonObject ClusterViews::statsAnswer() const
{
    QSet<QString> users;
    for (const ConnectionSnapshot &c : m_context->hub->connections()) {
        if (!c.rooms.isEmpty())
            users.insert(c.user);
    }
    QStringList rooms;
    for (const RoomSummary &r : m_context->hub->rooms())
        rooms << r.room;
    return {{QStringLiteral("stats"), m_stats->json()},
            {QStringLiteral("room_names"), QJsonArray::fromStringList(rooms)},
            {QStringLiteral("user_names"), QJsonArray::fromStringList(users.values())}};
}

QJsonObject ClusterViews::revokeAnswer(const QJsonObject &args) const
{
    const QString room = args.value(u"room").toString();
    const QString user = args.value(u"user").toString();
    const QString session = args.value(u"session").toString();
    // Recorded before the members go, as on one node: a join racing it is refused.
    m_context->revocations->revoke(room, user, session, args.value(u"at").toInteger());
    const qint64 removed = m_context->hub->revoke(room, user, session);
    return {{QStringLiteral("removed"), double(removed)}};
}

HttpReply
ClusterViews::askAndMerge(const HttpCall &call, quint64 node, const QString &op,
                          const QJsonObject &args,
                          std::function<HttpReply(const QList<QJsonObject> &answers)> merge) const
{
    const Cluster *cluster = m_context->cluster;
    return HttpReply::later([cluster, node, op, args, server = call.server,
                             merge = std::move(merge)](HttpReply::Finish finish) {
        cluster->ask(
                node, op, args, server,
                [finish = std::move(finish), merge](bool ok, const QList<QJsonObject> &answers) {
                    finish(ok ? merge(answers) : redisDown());
                });
    });
}

HttpReply ClusterViews::connections(const HttpCall &call, const QString &room,
                                    const QString &user) const
{
    QJsonObject filters;
    if (!room.isNull())
        filters.insert(QStringLiteral("room"), room);
    if (!user.isNull())
        filters.insert(QStringLiteral("user"), user);
    return askAndMerge(
            call, 0, QStringLiteral("connections"), filters, [](const QList<QJsonObject> &answers) {
                return HttpReply::json(compactJson(concatWithNode(answers, u"connections")));
            });
}

HttpReply ClusterViews::connection(const HttpCall &call, const QString &id) const
{
    const quint64 node = nodeOf(id);
    if (node == 0)
        return notFoundConnection(id);
    return askAndMerge(call, node, QStringLiteral("connection"), {{QStringLiteral("id"), id}},
                       [id](const QList<QJsonObject> &answers) {
                           if (answers.isEmpty() || !answers[0].contains(u"connection"))
                               return notFoundConnection(id);
                           QJsonObject c = answers[0].value(u"connection").toObject();
                           c.insert(QStringLiteral("node"), answers[0].value(u"node"));
                           return HttpReply::json(compactJson(c));
                       });
}

HttpReply ClusterViews::close(const HttpCall &call, const QString &id) const
{
    const quint64 node = nodeOf(id);
    if (node == 0)
        return notFoundConnection(id);
    return askAndMerge(call, node, QStringLiteral("close"), {{QStringLiteral("id"), id}},
                       [id, remote = call.remote](const QList<QJsonObject> &answers) {
                           if (answers.isEmpty() || !answers[0].value(u"closed").toBool())
                               return notFoundConnection(id);
                           qCInfo(lcHttp).noquote() << "close connection" << id << "by" << remote;
                           return HttpReply::json(QByteArrayLiteral(R"({"closed":true})"));
                       });
}

HttpReply ClusterViews::send(const HttpCall &call, const QString &id, const QString &text) const
{
    const quint64 node = nodeOf(id);
    if (node == 0)
        return notFoundConnection(id);
    return askAndMerge(call, node, QStringLiteral("send"),
                       {{QStringLiteral("id"), id}, {QStringLiteral("text"), text}},
                       [id](const QList<QJsonObject> &answers) {
                           if (answers.isEmpty() || !answers[0].value(u"sent").toBool())
                               return notFoundConnection(id);
                           return HttpReply::json(QByteArrayLiteral(R"({"sent":true})"));
                       });
}

HttpReply ClusterViews::rooms(const HttpCall &call) const
{
    return askAndMerge(call, 0, QStringLiteral("rooms"), {}, [](const QList<QJsonObject> &answers) {
        QMap<QString, std::pair<qint64, QSet<QString>>> merged; // sorted by room
        for (const QJsonObject &a : answers) {
            for (const QJsonValue &v : a.value(u"rooms").toArray()) {
                const QJsonObject r = v.toObject();
                auto &entry = merged[r.value(u"room").toString()];
                entry.first += r.value(u"connections").toInteger();
                for (const QJsonValue &u : r.value(u"users").toArray())
                    entry.second.insert(u.toString());
            }
        }
        QJsonArray out;
        for (auto it = merged.cbegin(); it != merged.cend(); ++it)
            out.append(QJsonObject{{QStringLiteral("room"), it.key()},
                                   {QStringLiteral("connections"), double(it->first)},
                                   {QStringLiteral("users"), double(it->second.size())}});
        return HttpReply::json(compactJson(out));
    });
}

HttpReply ClusterViews::room(const HttpCall &call, const QString &room) const
{
    return askAndMerge(
            call, 0, QStringLiteral("room"), {{QStringLiteral("room"), room}},
            [room](const QList<QJsonObject> &answers) {
                const QJsonArray members = concatWithNode(answers, u"members");
                if (members.isEmpty())
                    return HttpReply::error(
                            404, u"not_found",
                            QStringLiteral("room '%1' has no members").arg(room.left(200)));
                return HttpReply::json(compactJson(QJsonObject{
                        {QStringLiteral("room"), room}, {QStringLiteral("members"), members}}));
            });
}

HttpReply ClusterViews::stats(const HttpCall &call) const
{
    return askAndMerge(call, 0, QStringLiteral("stats"), {}, [](const QList<QJsonObject> &answers) {
        QJsonObject total;
        QSet<QString> rooms;
        QSet<QString> users;
        for (const QJsonObject &a : answers) {
            const QJsonObject s = a.value(u"stats").toObject();
            for (auto it = s.constBegin(); it != s.constEnd(); ++it) {
                if (it.key() != u"uptime_s")
                    total.insert(it.key(),
                                 total.value(it.key()).toDouble() + it.value().toDouble());
                else
                    total.insert(it.key(),
                                 qMax(total.value(it.key()).toDouble(), it.value().toDouble()));
            }
            for (const QJsonValue &r : a.value(u"room_names").toArray())
                rooms.insert(r.toString());
            for (const QJsonValue &u : a.value(u"user_names").toArray())
                users.insert(u.toString());
        }
        total.insert(QStringLiteral("rooms"), double(rooms.size()));
        total.insert(QStringLiteral("users"), double(users.size()));
        total.insert(QStringLiteral("nodes"), double(answers.size()));
        return HttpReply::json(compactJson(total));
    });
}

HttpReply ClusterViews::unregister(const HttpCall &call, const QString &room, const QString &user,
                                   const QString &session) const
{
    const QJsonObject member{{QStringLiteral("room"), room},
                             {QStringLiteral("user"), user},
                             {QStringLiteral("session"), session},
                             {QStringLiteral("at"), QDateTime::currentSecsSinceEpoch()}};
    const Cluster *cluster = m_context->cluster;
    return HttpReply::later([cluster, member, server = call.server](HttpReply::Finish finish) {
        cluster->revoke(member, server, [finish = std::move(finish), member](qint64 removed) {
            if (removed < 0) {
                finish(redisDown());
                return;
            }
            qCInfo(lcHttp).noquote()
                    << "unregister room" << member.value(u"room").toString() << "user"
                    << member.value(u"user").toString() << "removed" << removed << "(cluster)";
            finish(HttpReply::json(QByteArrayLiteral(R"({"removed":)") + QByteArray::number(removed)
                                   + '}'));
        });
    });
}

} // namespace sb
