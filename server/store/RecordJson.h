#pragma once

#include "base/Message.h"

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

namespace sb {

// The record as GET /api/log and the admin stream show it (data as the raw JSON it was), and as
// the message log's journal holds it.
QByteArray recordJson(const MessageRecord &record);
void appendRecordJson(QByteArray &out, const MessageRecord &record);

// The id a record's JSON starts with (`{"id":N,`), 0 when there is none.
quint64 recordJsonId(QByteArrayView json);
// A record's JSON (recordJson) read back, `data` exactly as it was: nullopt when it is not a
// record.
std::optional<MessageRecord> parseRecordJson(QByteArrayView json);

} // namespace sb
