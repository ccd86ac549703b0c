#pragma once

#include "base/Message.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace sb {

// One LISTEN/NOTIFY payload (docs/API.md, "The payload"):
//   {"room":R | "user":U | "connection":C | "all":true, "event":E, "data":D}
// read by the rules of a REST emit body: exactly one target, names within their limits, `data`
// any JSON value, kept as the raw text that was sent (numbers and key order untouched; absent
// is null); other members are ignored. Returns the emit (source notify) or nullopt with *error,
// a sentence that names the field.
std::optional<EmitRequest> parseNotifyPayload(const QByteArray &utf8, QString *error);

} // namespace sb
