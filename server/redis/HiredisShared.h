#pragma once

#include "redis/RedisReply.h"
#include "redis/RedisUrl.h"

#include <QByteArray>
#include <QList>

#include <utility>
#include <vector>

struct redisReply; // hiredis's reply (hiredis/hiredis.h)

namespace sb {

// What the async RedisClient and the blocking RedisSyncClient share (docs/ARCHITECTURE.md,
// "The Redis client").

// A hiredis reply copied into a RedisReply (null: a Nil reply).
RedisReply fromHiredis(const redisReply *reply);

// The commands that log in as the URL says, in order: AUTH (the password, and the user when
// given) when there is a password, SELECT when db is not 0. Each with the step's name.
std::vector<std::pair<const char *, QList<QByteArray>>> loginCommands(const RedisUrl &url);

// The argv's pointers and lengths as hiredis's *Argv calls take them (valid while argv is).
struct HiredisArgv
{
    explicit HiredisArgv(const QList<QByteArray> &argv);
    std::vector<const char *> ptrs;
    std::vector<size_t> lens;
    int count() const { return int(ptrs.size()); }
};

} // namespace sb
