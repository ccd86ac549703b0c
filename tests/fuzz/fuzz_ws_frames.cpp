// Fuzzes what a WebSocket client can send after its upgrade (docs/fuzzing.md): Qt's frame
// reader with the server's limits, the client protocol (join, leave, emit, presence, ping,
// refs, since), error frames and closes, on the real server (FuzzServer.h), as a member of
// room "fuzz" with a token that may publish. The first input byte chooses the shape:
//   0: the rest is one text message (a masked frame made here);
//   1: the rest is split at 0xFF bytes into several text messages;
//   2: the rest is the raw byte stream after the handshake (frame headers included).
// Then the client shuts its side and reads until the server closes.
//
// Checked: no crash (ASan, UBSan), no hang, and the server still answers a ping after.

#include "FuzzServer.h"
#include "FuzzSupport.h"

namespace {

QByteArray masked(quint8 opcode, QByteArrayView payload)
{
    QByteArray f;
    f.append(char(0x80 | opcode));
    const qsizetype n = payload.size();
    if (n < 126) {
        f.append(char(0x80 | n));
    } else if (n < 65536) {
        f.append(char(0x80 | 126)).append(char(n >> 8)).append(char(n & 0xff));
    } else {
        f.append(char(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            f.append(char((qint64(n) >> shift) & 0xff));
    }
    const char mask[4] = {0x12, 0x34, 0x56, 0x78};
    f.append(mask, 4);
    for (qsizetype i = 0; i < n; ++i)
        f.append(char(payload[i] ^ mask[i % 4]));
    return f;
}

QByteArray upgrade()
{
    return "GET /ws?token=" + sbfuzz::token()
            + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const int shape = data[0] % 3;
    const QByteArrayView rest(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    QByteArray stream;
    if (shape == 0) {
        stream = masked(0x1, rest);
    } else if (shape == 1) {
        for (const QByteArray &part : rest.toByteArray().split('\xff'))
            stream += masked(0x1, part);
    } else {
        stream = rest.toByteArray();
    }
    {
        sbfuzz::Connection c;
        const QByteArray hello = upgrade();
        c.send(hello.constData(), size_t(hello.size()));
        const QByteArray head = c.read(5000, "\r\n\r\n");
        SB_FUZZ_CHECK(head.startsWith("HTTP/1.1 101"));
        c.send(stream.constData(), size_t(stream.size()));
        c.shutdownWrite();
        c.read(3000);
    }
    // Still serving WebSockets.
    sbfuzz::Connection probe;
    const QByteArray hello = upgrade();
    probe.send(hello.constData(), size_t(hello.size()));
    SB_FUZZ_CHECK(probe.read(5000, "\r\n\r\n").startsWith("HTTP/1.1 101"));
    const QByteArray ping = masked(0x1, R"({"type":"ping","ref":1})");
    probe.send(ping.constData(), size_t(ping.size()));
    SB_FUZZ_CHECK(probe.read(5000, "pong").contains("pong"));
    return 0;
}
