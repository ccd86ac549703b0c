#include "auth/RevocationList.h"

#include "core/Logging.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace sb {

RevocationList::RevocationList(QString filePath, qint64 keepSeconds)
    : m_filePath(std::move(filePath)), m_keepSeconds(keepSeconds)
{}

QString RevocationList::keyOf(const QString &room, const QString &user, const QString &session)
{
    // Length-prefixed so that no choice of names can collide.
    return QString::number(room.size()) + u':' + room + QString::number(user.size()) + u':' + user
           + session;
}

bool RevocationList::load(QString *error)
{
    QMutexLocker lock(&m_mutex);
    if (m_filePath.isEmpty())
        return true;
    QFile file(m_filePath);
    if (!file.exists())
        return true;
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("cannot read %1: %2").arg(m_filePath, file.errorString());
        return false;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (!doc.isArray()) {
        qCWarning(lcServer) << "ignoring unreadable revocation file" << m_filePath
                            << parseError.errorString();
        return true;
    }
    for (const QJsonValue &v : doc.array()) {
        const QJsonObject o = v.toObject();
        Entry e{o.value(u"room").toString(), o.value(u"user").toString(),
                o.value(u"session").toString(), qint64(o.value(u"at").toDouble())};
        m_revoked.insert(keyOf(e.room, e.user, e.session), e);
    }
    pruneLocked(QDateTime::currentSecsSinceEpoch());
    return true;
}

void RevocationList::revoke(const QString &room, const QString &user, const QString &session,
                            qint64 second)
{
    QMutexLocker lock(&m_mutex);
    Entry &e = m_revoked[keyOf(room, user, session)];
    e.room = room;
    e.user = user;
    e.session = session;
    e.at = qMax(e.at, second);
    pruneLocked(second);
    saveLocked(); // unregister is rare: rewrite the whole file
}

qint64 RevocationList::revokedAt(const QString &room, const QString &user,
                                 const QString &session) const
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_revoked.constFind(keyOf(room, user, session));
    return it == m_revoked.constEnd() ? 0 : it->at;
}

qsizetype RevocationList::size() const
{
    QMutexLocker lock(&m_mutex);
    return m_revoked.size();
}

void RevocationList::pruneLocked(qint64 now)
{
    for (auto it = m_revoked.begin(); it != m_revoked.end();) {
        if (it->at + m_keepSeconds < now)
            it = m_revoked.erase(it);
        else
            ++it;
    }
}

void RevocationList::saveLocked() const
{
    if (m_filePath.isEmpty())
        return;
    QJsonArray array;
    for (const Entry &e : m_revoked) {
        array.append(QJsonObject{{QStringLiteral("room"), e.room},
                                 {QStringLiteral("user"), e.user},
                                 {QStringLiteral("session"), e.session},
                                 {QStringLiteral("at"), double(e.at)}});
    }
    QSaveFile file(m_filePath);
    if (!file.open(QIODevice::WriteOnly)
        || file.write(QJsonDocument(array).toJson(QJsonDocument::Compact)) < 0 || !file.commit())
        qCWarning(lcServer) << "cannot save revocations to" << m_filePath << file.errorString();
}

} // namespace sb
