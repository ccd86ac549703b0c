#include "base/WsFrame.h"

namespace sb::wsframe {

namespace {

QByteArray frame(quint8 opcode, QByteArrayView payload)
{
    const qsizetype n = payload.size();
    QByteArray out;
    out.reserve(n + 10);
    out.append(char(0x80 | opcode));
    if (n < 126) {
        out.append(char(n));
    } else if (n <= 0xFFFF) {
        out.append(char(126));
        out.append(char((n >> 8) & 0xFF));
        out.append(char(n & 0xFF));
    } else {
        out.append(char(127));
        for (int shift = 56; shift >= 0; shift -= 8)
            out.append(char((quint64(n) >> shift) & 0xFF));
    }
    out.append(payload);
    return out;
}

} // namespace

QByteArray text(QByteArrayView utf8Payload)
{
    return frame(0x1, utf8Payload);
}

QByteArray close(quint16 code, QByteArrayView reasonUtf8)
{
    QByteArray payload;
    payload.append(char(code >> 8));
    payload.append(char(code & 0xFF));
    // At most 123 bytes, cut at a character boundary (never inside a UTF-8 sequence).
    qsizetype n = qMin<qsizetype>(reasonUtf8.size(), 123);
    if (n < reasonUtf8.size()) {
        while (n > 0 && (quint8(reasonUtf8[n]) & 0xC0) == 0x80)
            --n;
    }
    payload.append(reasonUtf8.first(n));
    return frame(0x8, payload);
}

QByteArray ping(QByteArrayView payload)
{
    return frame(0x9, payload.first(qMin<qsizetype>(payload.size(), 125)));
}

} // namespace sb::wsframe
