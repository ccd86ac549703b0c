#include "endpoints/EndpointDescriptor.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QUrl>

namespace sb {

namespace {

constexpr qsizetype kMaxName = 100;
constexpr qsizetype kMaxHandler = 2048;
constexpr qsizetype kMaxDescription = 4096;

bool isNameChar(QChar c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9')
            || c == u'.' || c == u'_' || c == u'-';
}

EndpointDescriptor failed(EndpointDescriptor d, const QString &why)
{
    d.error = why;
    return d;
}

} // namespace

bool EndpointDescriptor::isValidName(QStringView name)
{
    if (name.isEmpty() || name.size() > kMaxName)
        return false;
    for (const QChar c : name) {
        if (!isNameChar(c))
            return false;
    }
    return true;
}

bool EndpointDescriptor::isUrlHandler(const QString &handler)
{
    return handler.startsWith(u"http://", Qt::CaseInsensitive)
            || handler.startsWith(u"https://", Qt::CaseInsensitive);
}

bool EndpointDescriptor::isValidHandler(const QString &handler, QString *why)
{
    if (handler.isEmpty() || handler.size() > kMaxHandler) {
        *why = QStringLiteral("handler must be a script path or an http(s) URL of 1..%1 "
                              "characters")
                       .arg(kMaxHandler);
        return false;
    }
    if (isUrlHandler(handler)) {
        const QUrl url(handler, QUrl::StrictMode);
        if (!url.isValid() || url.host().isEmpty()) {
            *why = QStringLiteral("handler: '%1' is not an http(s) URL with a host")
                           .arg(handler.left(200));
            return false;
        }
        return true;
    }
    if (handler.contains(u"://")) {
        *why = QStringLiteral("handler: only http:// and https:// URLs are handlers");
        return false;
    }
    for (const QString &segment : handler.split(u'/')) {
        bool ok = !segment.isEmpty() && segment != u"." && segment != u"..";
        for (const QChar c : segment)
            ok = ok && isNameChar(c);
        if (!ok) {
            *why = QStringLiteral("handler: '%1' is not a script path (segments of "
                                  "A-Za-z0-9._- relative to endpoints_dir, without .js)")
                           .arg(handler.left(200));
            return false;
        }
    }
    if (handler.endsWith(u".js")) {
        *why = QStringLiteral("handler: name the script without .js ('%1')")
                       .arg(handler.chopped(3).left(200));
        return false;
    }
    return true;
}

EndpointDescriptor EndpointDescriptor::fromJson(const QJsonObject &o, const QString &file)
{
    EndpointDescriptor d;
    d.file = file;
    const QJsonValue name = o.value(u"endpoint");
    if (name.isString() && isValidName(name.toString()))
        d.name = name.toString();
    const QJsonValue handler = o.value(u"handler");
    if (handler.isString())
        d.handler = handler.toString();
    const QJsonValue description = o.value(u"description");
    if (description.isString())
        d.description = description.toString().left(kMaxDescription);
    if (!name.isString())
        return failed(d, QStringLiteral("endpoint is missing or not a string"));
    if (d.name.isNull())
        return failed(d, QStringLiteral("endpoint must be 1..100 of A-Za-z0-9._-"));
    if (!handler.isString())
        return failed(d, QStringLiteral("handler is missing or not a string"));
    if (QString why; !isValidHandler(d.handler, &why))
        return failed(d, why);
    if (!description.isUndefined() && !description.isString() && !description.isNull())
        return failed(d, QStringLiteral("description must be a string"));
    const QJsonValue auth = o.value(u"auth");
    if (auth.isString() && auth.toString() == u"token")
        d.tokenAuth = true;
    else if (!auth.isUndefined() && !(auth.isString() && auth.toString() == u"none"))
        return failed(d, QStringLiteral("auth must be \"none\" or \"token\""));
    return d;
}

EndpointDescriptor EndpointDescriptor::fromFile(const QByteArray &content, const QString &file)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(content, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        EndpointDescriptor d;
        d.file = file;
        d.error = QStringLiteral("not valid JSON: %1 at offset %2")
                          .arg(parseError.errorString())
                          .arg(parseError.offset);
        return d;
    }
    if (!doc.isObject()) {
        EndpointDescriptor d;
        d.file = file;
        d.error = QStringLiteral("a descriptor must be a JSON object");
        return d;
    }
    return fromJson(doc.object(), file);
}

QByteArray EndpointDescriptor::toFileContent() const
{
    QJsonObject o{{QStringLiteral("endpoint"), name}, {QStringLiteral("handler"), handler}};
    if (!description.isEmpty())
        o.insert(QStringLiteral("description"), description);
    o.insert(QStringLiteral("auth"), tokenAuth ? QStringLiteral("token") : QStringLiteral("none"));
    return QJsonDocument(o).toJson(QJsonDocument::Indented);
}

} // namespace sb
