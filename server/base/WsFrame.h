#pragma once

#include <QByteArray>
#include <QByteArrayView>

// Server-to-client WebSocket frames (RFC 6455 section 5.2: FIN set, never masked), encoded once
// and shared by every connection that receives them. Reading client frames is QWebSocket's job.
namespace sb::wsframe {

QByteArray text(QByteArrayView utf8Payload);
QByteArray close(quint16 code, QByteArrayView reasonUtf8 = {});
// A ping with at most 125 bytes of payload (longer payloads are cut).
QByteArray ping(QByteArrayView payload = {});

} // namespace sb::wsframe
