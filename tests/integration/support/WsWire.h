#pragma once

// WebSocket frames on the wire (RFC 6455 5.2), for the tests that speak frames themselves:
// building masked client frames and taking the server's frames off a byte buffer.

#include <QByteArray>
#include <QList>

namespace sbit {

// A frame as received: its opcode (1 text, 2 binary, 8 close, 9 ping, 10 pong) and payload
// (unmasked).
struct WireFrame
{
    int opcode = -1;
    QByteArray payload;
    // The status code of a close frame; -1 for other frames and a close without one.
    int closeCode() const;
};

// A masked client frame. The mask key is 4 bytes; by default all zero (the payload is sent as
// it is).
QByteArray clientFrame(quint8 opcode, const QByteArray &payload, bool fin = true,
                       const QByteArray &maskKey = QByteArray(4, '\0'));

// A client frame with a random mask key, as a real client sends it.
QByteArray randomlyMaskedFrame(quint8 opcode, const QByteArray &payload, bool fin = true);

// Takes the frame at the front of `in` (masked or not) off it; false while it is incomplete.
bool takeFrame(QByteArray &in, WireFrame *out);

// Every complete frame at the front of `in`, taken off it.
QList<WireFrame> takeFrames(QByteArray &in);

} // namespace sbit
