// Fuzzes parseNotifyPayload (server/notify/NotifyPayload; docs/fuzzing.md): the text of a
// PostgreSQL NOTIFY payload, which any database session allowed to NOTIFY can send.
// Checked: an accepted payload names one target and an event within the limits of
// docs/API.md, and its `data` is valid JSON (it is kept raw and sent to clients).

#include "FuzzSupport.h"
#include "base/Names.h"
#include "base/RawJson.h"
#include "notify/NotifyPayload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray payload = sbfuzz::bytes(data, size).toByteArray();
    QString error;
    const std::optional<sb::EmitRequest> request = sb::parseNotifyPayload(payload, &error);
    if (!request) {
        SB_FUZZ_CHECK(!error.isEmpty());
        return 0;
    }
    SB_FUZZ_CHECK(request->source == sb::EmitSource::Notify);
    SB_FUZZ_CHECK(sb::names::checkLength(u"event", request->event, sb::names::kEventMax));
    switch (request->target) {
    case sb::EmitTarget::Room:
        SB_FUZZ_CHECK(sb::names::checkLength(u"room", request->to, sb::names::kRoomMax));
        break;
    case sb::EmitTarget::User:
        SB_FUZZ_CHECK(sb::names::checkLength(u"user", request->to, sb::names::kUserMax));
        break;
    case sb::EmitTarget::Connection:
        SB_FUZZ_CHECK(!request->to.isEmpty());
        break;
    case sb::EmitTarget::All:
        break;
    case sb::EmitTarget::Legacy:
        SB_FUZZ_CHECK(false); // never from a notification
    }
    QString why;
    SB_FUZZ_CHECK(sb::rawjson::isValidValue(request->data, &why));
    SB_FUZZ_CHECK(sb::rawjson::findControlCharacter(request->data) < 0);
    SB_FUZZ_CHECK(sb::rawjson::isStrictJson(payload));
    return 0;
}
