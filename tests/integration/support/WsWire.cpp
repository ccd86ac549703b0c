#include "WsWire.h"

#include <QRandomGenerator>

namespace sbit {

int WireFrame::closeCode() const
{
    if (opcode != 8 || payload.size() < 2)
        return -1;
    return (quint8(payload.at(0)) << 8) | quint8(payload.at(1));
}

QByteArray clientFrame(quint8 opcode, const QByteArray &payload, bool fin,
                       const QByteArray &maskKey)
{
    QByteArray frame;
    frame.append(char((fin ? 0x80 : 0x00) | (opcode & 0x0f)));
    const quint64 len = quint64(payload.size());
    if (len < 126) {
        frame.append(char(0x80 | len));
    } else if (len <= 0xffff) {
        frame.append(char(0x80 | 126));
        frame.append(char((len >> 8) & 0xff));
        frame.append(char(len & 0xff));
    } else {
        frame.append(char(0x80 | 127));
        for (int i = 7; i >= 0; --i)
            frame.append(char((len >> (8 * i)) & 0xff));
    }
    frame.append(maskKey);
    QByteArray masked = payload;
    for (qsizetype i = 0; i < masked.size(); ++i)
        masked[i] = char(masked.at(i) ^ maskKey.at(i % 4));
    return frame + masked;
}

QByteArray randomlyMaskedFrame(quint8 opcode, const QByteArray &payload, bool fin)
{
    QByteArray mask(4, '\0');
    for (char &m : mask)
        m = char(QRandomGenerator::global()->bounded(256));
    return clientFrame(opcode, payload, fin, mask);
}

bool takeFrame(QByteArray &in, WireFrame *out)
{
    if (in.size() < 2)
        return false;
    const quint8 b0 = quint8(in.at(0));
    const quint8 b1 = quint8(in.at(1));
    qsizetype pos = 2;
    quint64 len = b1 & 0x7f;
    if (len == 126) {
        if (in.size() < 4)
            return false;
        len = (quint64(quint8(in.at(2))) << 8) | quint8(in.at(3));
        pos = 4;
    } else if (len == 127) {
        if (in.size() < 10)
            return false;
        len = 0;
        for (int i = 0; i < 8; ++i)
            len = (len << 8) | quint8(in.at(2 + i));
        pos = 10;
    }
    const bool masked = b1 & 0x80;
    QByteArray mask;
    if (masked) {
        if (in.size() < pos + 4)
            return false;
        mask = in.mid(pos, 4);
        pos += 4;
    }
    if (quint64(in.size()) < quint64(pos) + len)
        return false;
    out->opcode = b0 & 0x0f;
    out->payload = in.mid(pos, qsizetype(len));
    if (masked) {
        for (qsizetype i = 0; i < out->payload.size(); ++i)
            out->payload[i] = char(out->payload.at(i) ^ mask.at(i % 4));
    }
    in.remove(0, pos + qsizetype(len));
    return true;
}

QList<WireFrame> takeFrames(QByteArray &in)
{
    QList<WireFrame> frames;
    WireFrame f;
    while (takeFrame(in, &f))
        frames.append(f);
    return frames;
}

} // namespace sbit
