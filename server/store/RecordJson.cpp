#include "store/RecordJson.h"

#include "base/RawJson.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace sb {

void appendRecordJson(QByteArray &out, const MessageRecord &r)
{
    out.reserve(out.size() + 160 + r.to.size() + r.event.size() + r.data.size());
    out += R"({"id":)";
    out += QByteArray::number(r.id);
    out += R"(,"ts":)";
    out += QByteArray::number(r.ts);
    out += R"(,"source":")";
    out += QByteArrayView(sourceName(r.source).data(), sourceName(r.source).size());
    out += R"(","target":")";
    out += QByteArrayView(targetName(r.target).data(), targetName(r.target).size());
    out += R"(","to":)";
    if (r.to.isNull())
        out += "null";
    else
        rawjson::appendQuoted(out, r.to);
    out += R"(,"event":)";
    rawjson::appendQuoted(out, r.event);
    out += R"(,"data":)";
    out += r.data.isEmpty() ? QByteArrayView("null") : QByteArrayView(r.data);
    out += R"(,"delivered":)";
    out += QByteArray::number(r.delivered);
    out += R"(,"remote":)";
    rawjson::appendQuoted(out, r.remote);
    if (!r.node.isNull()) { // the node that accepted it, in a cluster
        out += R"(,"node":)";
        rawjson::appendQuoted(out, r.node);
    }
    out += '}';
}

QByteArray recordJson(const MessageRecord &r)
{
    QByteArray out;
    appendRecordJson(out, r);
    return out;
}

quint64 recordJsonId(QByteArrayView json)
{
    static constexpr QByteArrayView kId("{\"id\":");
    const qsizetype end = json.indexOf(',');
    if (!json.startsWith(kId) || end <= kId.size())
        return 0;
    bool ok = false;
    const quint64 id = json.sliced(kId.size(), end - kId.size()).toULongLong(&ok);
    return ok ? id : 0;
}

// Its `data` is taken as the bytes between the `"data":` member and the `"delivered":` member,
// whatever they are: the names before it are quoted JSON strings (a '"' in them is escaped, so
// the first `,"data":` is the member) and `remote` and `node`, after the last `,"delivered":`,
// are an address and a node name. The rest is parsed with `data` set aside, so a record whose data
// is not valid JSON (raw control characters in it, say) still comes back exactly.
std::optional<MessageRecord> parseRecordJson(QByteArrayView json)
{
    static constexpr QByteArrayView kData(",\"data\":");
    static constexpr QByteArrayView kDelivered(",\"delivered\":");
    const qsizetype dataAt = json.indexOf(kData);
    const qsizetype deliveredAt = json.lastIndexOf(kDelivered);
    if (dataAt < 0 || deliveredAt < dataAt + kData.size())
        return std::nullopt;
    QByteArray rest = json.first(dataAt).toByteArray();
    rest += ",\"data\":null";
    rest += json.sliced(deliveredAt);
    const QJsonObject o = QJsonDocument::fromJson(rest).object();
    MessageRecord r;
    r.id = recordJsonId(json); // exact, unlike a JSON number
    if (o.isEmpty() || r.id == 0)
        return std::nullopt;
    r.ts = o.value(u"ts").toInteger();
    r.source = parseSourceName(o.value(u"source").toString()).value_or(EmitSource::Rest);
    r.target = parseTargetName(o.value(u"target").toString()).value_or(EmitTarget::Room);
    r.to = o.value(u"to").isNull() ? QString() : o.value(u"to").toString();
    r.event = o.value(u"event").toString();
    r.data = json.sliced(dataAt + kData.size(), deliveredAt - dataAt - kData.size()).toByteArray();
    r.delivered = o.value(u"delivered").toInteger();
    r.remote = o.value(u"remote").toString();
    if (o.contains(u"node"))
        r.node = o.value(u"node").toString();
    return r;
}

} // namespace sb
