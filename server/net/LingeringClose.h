#pragma once

class QAbstractSocket;

namespace sb::net {

// A lingering close (docs/SECURITY.md, "Closing connections"): the last answer a client
// is owed (a 413, a WebSocket close 1009 or 1013) must not be destroyed by a TCP reset. Linux
// answers the close() of a socket whose receive queue still holds unread bytes (the rest of a
// refused body, of a frame over the limit) with a reset, and the client may lose what was
// sent just before it. So: keep a duplicate of the descriptor, let Qt write what it still
// holds and close its own descriptor, then send FIN (shutdown for writing) and read and
// discard what the client still sends until it closes, goes quiet for kQuietMs, kMaxMs
// have passed or kMaxDrainBytes were discarded. Discarding allocates nothing; at most kMaxLingering
// connections linger at once (beyond that the close is a plain one).
//
// Call before or right after the socket is told to close, on the socket's thread. TLS
// sockets are left alone (their close_notify lives in the QSslSocket). Returns false when
// the socket was not taken (already closed, TLS, or too many lingering).
bool lingerAfterClose(QAbstractSocket *socket);

// The socket is about to be aborted (its client does not read): no linger, the reset is
// what such a client gets. Call before abort().
void cancelLinger(QAbstractSocket *socket);

// Connections lingering now (all threads).
int lingeringCount();

constexpr int kQuietMs = 2000;
constexpr int kMaxMs = 10000;
constexpr long long kMaxDrainBytes = 16LL * 1024 * 1024; // then the rest gets the reset
constexpr int kMaxLingering = 4096;

} // namespace sb::net
