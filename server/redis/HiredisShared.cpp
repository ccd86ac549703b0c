#include "redis/HiredisShared.h"

#include <hiredis/hiredis.h>

namespace sb {

RedisReply fromHiredis(const redisReply *r)
{
    RedisReply out;
    if (!r)
        return out;
    switch (r->type) {
    case REDIS_REPLY_STATUS:
        out.type = RedisReply::Type::Status;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ERROR:
        out.type = RedisReply::Type::Error;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_STRING:
        out.type = RedisReply::Type::String;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_INTEGER:
        out.type = RedisReply::Type::Integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_ARRAY:
        out.type = RedisReply::Type::Array;
        out.elements.reserve(qsizetype(r->elements));
        for (size_t i = 0; i < r->elements; ++i)
            out.elements.append(fromHiredis(r->element[i]));
        break;
    default:
        out.type = RedisReply::Type::Nil;
        break;
    }
    return out;
}

std::vector<std::pair<const char *, QList<QByteArray>>> loginCommands(const RedisUrl &url)
{
    std::vector<std::pair<const char *, QList<QByteArray>>> steps;
    if (!url.password.isEmpty()) {
        QList<QByteArray> argv{"AUTH"};
        if (!url.user.isEmpty())
            argv << url.user.toUtf8();
        argv << url.password.toUtf8();
        steps.emplace_back("AUTH", argv);
    }
    if (url.db != 0)
        steps.emplace_back("SELECT", QList<QByteArray>{"SELECT", QByteArray::number(url.db)});
    return steps;
}

HiredisArgv::HiredisArgv(const QList<QByteArray> &argv)
{
    ptrs.reserve(size_t(argv.size()));
    lens.reserve(size_t(argv.size()));
    for (const QByteArray &arg : argv) {
        ptrs.push_back(arg.constData());
        lens.push_back(size_t(arg.size()));
    }
}

} // namespace sb
