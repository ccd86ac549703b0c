#pragma once

#include <QHash>
#include <QMutex>
#include <QString>

namespace sb {

// Remembers, per (room, user, session), the second of the latest unregister. Tokens for that
// triple issued at or before it are refused. Entries are kept until the longest token
// lifetime has passed, and survive restarts in an append-only journal in the data dir (one
// JSON line per unregister, compacted at load and when it holds twice the live entries).
// Thread-safe: register/unregister run on the HTTP thread, joins on the I/O threads.
class RevocationList
{
public:
    explicit RevocationList(QString filePath = {}, qint64 keepSeconds = 604800);

    bool load(QString *error = nullptr);
    // Records an unregister at `second`, or later: at the highest iat issueSecond() gave the
    // triple, so that every token issued so far is covered (docs/API.md, "Tokens").
    void revoke(const QString &room, const QString &user, const QString &session, qint64 second);
    // The iat for a token issued now: `now`, or the latest revocation's second + 1 when that is
    // not before now (a register in the second of an unregister must work). Remembered, so
    // that the next revoke() covers it even in that same second.
    qint64 issueSecond(const QString &room, const QString &user, const QString &session,
                       qint64 now);
    // The second of the latest revocation of the triple, or 0.
    qint64 revokedAt(const QString &room, const QString &user, const QString &session) const;
    qsizetype size() const;

private:
    static QString keyOf(const QString &room, const QString &user, const QString &session);
    void pruneLocked(qint64 now);

    QString m_filePath;
    qint64 m_keepSeconds;
    mutable QMutex m_mutex; // the entries (token checks on every thread)
    QMutex m_fileMutex;     // the journal file (unregister on the HTTP thread)
    qsizetype m_journalLines = 0;
    qint64 m_lastPruneSecond = 0;
    struct Entry
    {
        QString room, user, session;
        qint64 at = 0;
        qint64 issuedUpTo = 0; // the highest iat issueSecond() gave (memory only)
    };
    QHash<QString, Entry> m_revoked;
};

} // namespace sb
