#pragma once

#include <QString>

#include <optional>

namespace sb {

// Where a Redis server is and how to log in (docs/ARCHITECTURE.md, "The Redis client"):
//   redis://[[user]:password@]host[:port][/db]   (port 6379, db 0; user and password are
//                                                 percent-decoded; IPv6 hosts in brackets)
//   unix:///path/to/redis.sock[?db=N]
struct RedisUrl
{
    QString host;     // empty for a unix socket
    int port = 6379;  // TCP only
    QString unixPath; // empty for TCP
    QString user;     // empty: AUTH with the password only (the "default" user)
    QString password; // empty: no AUTH
    int db = 0;       // SELECT when not 0

    bool isUnix() const { return !unixPath.isEmpty(); }

    // nullopt with *error naming the field: "redis: port must be 1-65535". The error never
    // contains the password.
    static std::optional<RedisUrl> parse(const QString &text, QString *error);

    // The URL with the password replaced by *** (for logs and messages).
    QString redacted() const;
};

} // namespace sb
