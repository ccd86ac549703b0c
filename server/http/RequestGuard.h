#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QPointer>

#include <deque>
#include <functional>
#include <memory>
#include <optional>

class QTcpSocket;
class QTimer;

namespace sb {

class HttpLimits;
class Metrics;
struct ServerConfig;

// The request-head guard (docs/ARCHITECTURE.md, "How one emit flows"), one per HTTP socket,
// in front of Qt 6.4's request parser (which buffers whole bodies, never answers Expect:
// 100-continue and ignores HTTP/1.0 and Connection: close). It looks at the bytes before the
// parser reads them, finds where each request ends (Content-Length or chunk sizes), and:
//   - answers 100 Continue at once when a request asks for it;
//   - answers 413 when Content-Length or the counted chunk bytes pass max_body_bytes, 431 for
//     a head over 64 KiB, 400 for a malformed request line or Content-Length, 408 when a
//     request is not complete within read_timeout_s; then drains and closes, so that the
//     answer is readable and memory does not grow;
//   - remembers per request whether the connection must close after the answer;
//   - charges the bytes of requests in flight to the listener's budget (HttpLimits) and
//     refuses with 503 a request that would pass it;
//   - stops reading, and hands Qt no further request, while the answers the client has not
//     read pass kMaxUnsentBytes (a client that pipelines thousands of requests and never
//     reads cannot make the server buffer thousands of answers); reading resumes once they
//     drain below half of it, and a connection whose answers do not drain within
//     read_timeout_s is closed.
// It frames requests only; parsing them stays Qt's job.
//
// How it stops Qt's parser (docs/SECURITY.md, "Bounded memory"): Qt reads a socket in a
// transaction of its own per request and commits it when the request is complete. Between two
// requests there is none; the guard then opens one, reads (and so hides) everything buffered,
// and limits the socket's read buffer so that the kernel holds the rest. Qt finds nothing to
// parse. To resume, the guard rolls its transaction back (the bytes are back, unread) and
// signals readyRead again.
class RequestGuard final : public QObject
{
    Q_OBJECT

public:
    struct RequestMeta
    {
        bool http10 = false;
        bool closeAfter = false;
        qint64 headNs = 0; // Metrics::nowNs() when the request head was complete
    };

    // metrics (may be null) counts the refusals the guard answers itself.
    RequestGuard(QTcpSocket *socket, const ServerConfig *config, QObject *httpServer,
                 Metrics *metrics = nullptr, std::shared_ptr<HttpLimits> limits = {});
    ~RequestGuard() override;

    static RequestGuard *of(QTcpSocket *socket);
    // What the guard saw of the request the HTTP server is handling now.
    RequestMeta takeMeta();
    // The request was upgraded to a WebSocket: stop guarding this socket.
    void release();
    // The HTTP server holds answers until the message log commits; a refusal must queue
    // behind them. The hook returns true when it took the answer (close: end the connection
    // after it), false when nothing is held and the guard writes it itself.
    using AnswerQueue = std::function<bool(const QByteArray &answer, bool close)>;
    void setAnswerQueue(AnswerQueue queue) { m_answerQueue = std::move(queue); }
    // The HTTP server wrote an answer, or holds `heldBytes` of answers waiting for the log:
    // reading stops while the client owes the server too many unread bytes.
    void outputChanged(qint64 heldBytes);
    bool isPaused() const { return m_paused; }
    // Bytes the client has not read yet: in the socket's write buffer and held by the server.
    qint64 unsentBytes() const;

    static constexpr qsizetype kMaxHead = 64 * 1024;
    static constexpr qsizetype kMaxHeaderFields = 100;
    static constexpr int kMaxRequestTimeouts = 10; // a request takes at most 10 x read_timeout_s
    static constexpr qint64 kMaxDrainMs = 10000;   // discarding a refused body, at most
    static constexpr qint64 kMaxUnsentBytes = 256 * 1024; // unread answers before reading stops
    static constexpr qint64 kPausedReadBuffer = 16 * 1024;

private:
    enum class State {
        Idle,
        Head,
        Body,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailer,
        Deferred,
        Rejected
    };

    void onReadyRead();
    void onTimeout();
    // The framing (RequestFraming.cpp): analyze() reads bytes from `from` on; its steps
    // return the offset after what they took, or -1 when the guard stopped.
    void analyze(const QByteArray &bytes, qsizetype from);
    qsizetype startRequest(const QByteArray &bytes, qsizetype i);
    qsizetype readHead(const QByteArray &bytes, qsizetype i);
    qsizetype readBody(const QByteArray &bytes, qsizetype i);
    qsizetype readChunkLine(const QByteArray &bytes, qsizetype i);
    qsizetype readChunkData(const QByteArray &bytes, qsizetype i);
    bool chunkSize(const QByteArray &line); // a chunk-size line: false when refused
    bool finishHead();
    void requestComplete(qsizetype endOffset);
    void reject(int status, const char *code, const QString &message);
    void armTimer(int ms);
    void countRefusal(int status);
    bool charge(qint64 bytes);
    void uncharge();
    void pause();
    void resume();
    void hideBuffered();
    void onBytesWritten();
    void onStalled();
    void closeSocket();

    QTcpSocket *m_socket;
    const ServerConfig *m_config;
    QPointer<QObject> m_httpServer;
    Metrics *m_metrics;
    AnswerQueue m_answerQueue;
    std::shared_ptr<HttpLimits> m_limits;
    QHostAddress m_peer;
    qint64 m_charged = 0;   // bytes of the request in flight charged to m_limits
    qint64 m_abandoned = 0; // bytes of refused requests, freed with the socket
    QTimer *m_timer;
    QTimer *m_stallTimer;
    bool m_paused = false;
    qint64 m_heldBytes = 0;
    QElapsedTimer m_requestClock;
    QElapsedTimer m_drainClock;

    State m_state = State::Idle;
    QByteArray m_head;
    QByteArray m_chunkLine;
    qint64 m_bodyRemaining = 0;
    qint64 m_chunkRemaining = 0;
    qint64 m_bodyTotal = 0;
    qint64 m_drainRemaining = -1; // after a refusal: body bytes still to discard, -1 unknown
    qint64 m_bytesAfterHead = 0;
    bool m_expectContinue = false;
    RequestMeta m_current;
    // A refusal waiting for the complete requests ahead of it to be answered first.
    struct Refusal
    {
        int status = 0;
        const char *code = "";
        QString message;
    };
    Refusal m_deferred;

    // Bytes at the front of the socket's unread buffer that were already analyzed, and the
    // request ends among them, as offsets into that buffer.
    qint64 m_unreadAtExit = 0;
    std::deque<qint64> m_boundaries;
    std::deque<RequestMeta> m_meta;
};

} // namespace sb
