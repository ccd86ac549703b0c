// Fuzzes what a TCP client can send to the one listener (docs/fuzzing.md, docs/SECURITY.md):
// the request-head guard (framing by Content-Length and chunks, 100 Continue, 408/413/431,
// pausing a client that does not read), Qt's HTTP parser behind it, routing, the key check
// and the keyless-call checks, body decoding and every REST and compatibility handler, on the
// real server (FuzzServer.h). The input is the client's whole byte stream on one connection;
// its first byte chooses how it is cut into writes (so that requests straddle reads). After
// it the client shuts its side and reads until the server closes.
//
// Checked: the server neither crashes (ASan, UBSan) nor hangs, answers only well-formed
// status lines, and is still healthy after every input.

#include "FuzzServer.h"
#include "FuzzSupport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const int cut = data[0] % 4; // 0: one write; 1..3: writes of 1, 7 or 64 bytes
    const char *bytes = reinterpret_cast<const char *>(data + 1);
    size_t left = size - 1;
    {
        sbfuzz::Connection c;
        static const size_t pieces[] = {0, 1, 7, 64};
        if (cut == 0) {
            c.send(bytes, left);
        } else {
            while (left > 0) {
                const size_t n = qMin(left, pieces[cut]);
                c.send(bytes, n);
                bytes += n;
                left -= n;
            }
        }
        c.shutdownWrite();
        const QByteArray answers = c.read(3000);
        // Whatever came back starts with a status line (or nothing, for a request cut short).
        SB_FUZZ_CHECK(answers.isEmpty() || answers.startsWith("HTTP/1.1 ")
                      || answers.startsWith("HTTP/1.0 "));
    }
    // Still serving.
    sbfuzz::Connection probe;
    static const char health[] = "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    probe.send(health, sizeof health - 1);
    const QByteArray answer = probe.read(5000, "}");
    SB_FUZZ_CHECK(answer.startsWith("HTTP/1.1 200"));
    return 0;
}
