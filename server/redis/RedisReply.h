#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace sb {

// One Redis reply as a Qt value, copied out of the client library's reply so that callers
// never see it (docs/ARCHITECTURE.md, "The Redis client"). `string` holds the bulk string, the
// status text or the error text, byte for byte.
struct RedisReply
{
    enum class Type { Nil, Status, Error, Integer, String, Array };

    Type type = Type::Nil;
    qint64 integer = 0;
    QByteArray string;
    QList<RedisReply> elements;

    bool isError() const { return type == Type::Error; }
    bool isNil() const { return type == Type::Nil; }
    bool isArray() const { return type == Type::Array; }

    // An Integer, or a String/Status that is a whole number ("42"); else 0 with *ok false.
    qint64 toInt(bool *ok = nullptr) const
    {
        bool good = false;
        qint64 value = 0;
        if (type == Type::Integer) {
            good = true;
            value = integer;
        } else if (type == Type::String || type == Type::Status) {
            value = string.toLongLong(&good);
        }
        if (ok)
            *ok = good;
        return good ? value : 0;
    }

    // The error text ("WRONGTYPE Operation against a key..."), empty when not an error.
    QString errorText() const { return isError() ? QString::fromUtf8(string) : QString(); }

    static RedisReply error(const QByteArray &text)
    {
        RedisReply r;
        r.type = Type::Error;
        r.string = text;
        return r;
    }
};

} // namespace sb
