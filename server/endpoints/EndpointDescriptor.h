#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace sb {

// One `*.websocket` file (docs/API.md, "Endpoints"): {"endpoint": NAME, "handler": H,
// "description": TEXT, "auth": "none"|"token"}.
struct EndpointDescriptor
{
    QString name;
    QString handler;
    QString description;
    bool tokenAuth = false;
    QString file;  // relative to endpoints_dir
    QString error; // null: valid; else the field and what is wrong with it

    bool operator==(const EndpointDescriptor &) const = default;

    // NAME: 1..100 of A-Za-z0-9._-
    static bool isValidName(QStringView name);
    // H: an http(s) URL with a host, or a relative script path (segments of A-Za-z0-9._-, no
    // "." or ".." segment, no ".js"). False with *why naming `handler`.
    static bool isValidHandler(const QString &handler, QString *why);
    static bool isUrlHandler(const QString &handler);

    // Reads a descriptor; a bad one comes back with `error` set naming the field (the name
    // is kept when it could be read, so duplicates and listings can show it).
    static EndpointDescriptor fromJson(const QJsonObject &object, const QString &file);
    static EndpointDescriptor fromFile(const QByteArray &content, const QString &file);
    // The file's content for a valid descriptor (what POST /api/endpoints writes).
    QByteArray toFileContent() const;
};

} // namespace sb
