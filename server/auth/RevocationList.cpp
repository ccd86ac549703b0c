#include "auth/RevocationList.h"

#include "base/Logging.h"

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace sb {

namespace {

// The journal says who was logged out of which room: not for other local users (mode 0600).
constexpr QFileDevice::Permissions kOwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;

QByteArray line(const QString &room, const QString &user, const QString &session, qint64 at)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("room"), room},
                                     {QStringLiteral("user"), user},
                                     {QStringLiteral("session"), session},
                                     {QStringLiteral("at"), double(at)}})
                   .toJson(QJsonDocument::Compact)
            + '\n';
}

} // namespace

RevocationList::RevocationList(QString filePath, qint64 keepSeconds)
    : m_filePath(std::move(filePath)), m_keepSeconds(keepSeconds)
{ }

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
    if (file.exists()) {
        if (!file.open(QIODevice::ReadOnly)) {
            if (error)
                *error = QStringLiteral("cannot read %1: %2").arg(m_filePath, file.errorString());
            return false;
        }
        // One JSON object per line (an append-only journal); a torn last line is skipped.
        while (!file.atEnd()) {
            const QJsonObject o = QJsonDocument::fromJson(file.readLine()).object();
            if (o.isEmpty())
                continue;
            Entry e{o.value(u"room").toString(), o.value(u"user").toString(),
                    o.value(u"session").toString(), qint64(o.value(u"at").toDouble())};
            Entry &slot = m_revoked[keyOf(e.room, e.user, e.session)];
            if (e.at >= slot.at)
                slot = e;
        }
    }
    pruneLocked(QDateTime::currentSecsSinceEpoch());
    // Compact: rewrite the journal with one line per live entry, readable by the owner only
    // (also when an older version left it world-readable).
    QSaveFile out(m_filePath);
    bool ok = out.open(QIODevice::WriteOnly) && out.setPermissions(kOwnerOnly);
    for (const Entry &e : std::as_const(m_revoked)) {
        if (ok)
            ok = out.write(line(e.room, e.user, e.session, e.at)) >= 0;
    }
    if (!ok || !out.commit()) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(m_filePath, out.errorString());
        return false;
    }
    m_journalLines = m_revoked.size();
    return true;
}

void RevocationList::revoke(const QString &room, const QString &user, const QString &session,
                            qint64 second)
{
    qint64 at = 0;
    bool compact = false;
    {
        QMutexLocker lock(&m_mutex);
        Entry &e = m_revoked[keyOf(room, user, session)];
        e.room = room;
        e.user = user;
        e.session = session;
        e.at = qMax(qMax(e.at, second), e.issuedUpTo);
        at = e.at;
        if (second != m_lastPruneSecond) { // at most one sweep per second of unregisters
            m_lastPruneSecond = second;
            pruneLocked(second);
        }
        compact = ++m_journalLines > 2 * m_revoked.size() + 1000;
    }
    // File work happens outside the lock that token checks on the I/O threads take.
    if (m_filePath.isEmpty())
        return;
    QMutexLocker fileLock(&m_fileMutex);
    if (compact) {
        QList<Entry> entries;
        {
            QMutexLocker lock(&m_mutex);
            entries = m_revoked.values();
            m_journalLines = entries.size();
        }
        QSaveFile out(m_filePath);
        bool ok = out.open(QIODevice::WriteOnly) && out.setPermissions(kOwnerOnly);
        for (const Entry &e : std::as_const(entries)) {
            if (ok)
                ok = out.write(line(e.room, e.user, e.session, e.at)) >= 0;
        }
        if (!ok || !out.commit())
            qCWarning(lcServer) << "cannot save revocations to" << m_filePath << out.errorString();
        return;
    }
    QFile file(m_filePath);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Append, kOwnerOnly)
        || file.write(line(room, user, session, at)) < 0)
        qCWarning(lcServer) << "cannot append a revocation to" << m_filePath << file.errorString();
}

qint64 RevocationList::issueSecond(const QString &room, const QString &user, const QString &session,
                                   qint64 now)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_revoked.find(keyOf(room, user, session));
    if (it == m_revoked.end() || it->at < now)
        return now;
    it->issuedUpTo = qMax(it->issuedUpTo, it->at + 1);
    return it->at + 1;
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

} // namespace sb
