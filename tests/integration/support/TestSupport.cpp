#include "TestSupport.h"

#include <QAtomicInt>
#include <QCoreApplication>
#include <QDateTime>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QMessageAuthenticationCode>
#include <QTimer>

#include <unistd.h>

using namespace Qt::StringLiterals;

namespace sbit {

bool waitUntil(const std::function<bool()> &pred, int timeoutMs)
{
    if (pred())
        return true;
    QDeadlineTimer deadline(timeoutMs);
    QTimer wake;
    wake.setSingleShot(true);
    while (!deadline.hasExpired()) {
        const qint64 remaining = deadline.remainingTime();
        wake.start(int(std::clamp<qint64>(remaining, 1, 20)));
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
        if (pred())
            return true;
    }
    return pred();
}

void spin(int ms)
{
    QElapsedTimer t;
    t.start();
    waitUntil([&] { return t.elapsed() >= ms; }, ms + 1000);
}

QByteArray minifyJson(const QByteArray &json)
{
    QByteArray out;
    out.reserve(json.size());
    bool inString = false;
    bool escaped = false;
    for (char c : json) {
        if (inString) {
            out.append(c);
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '"')
            inString = true;
        out.append(c);
    }
    return out;
}

namespace {

bool isWs(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

qsizetype skipWs(const QByteArray &t, qsizetype i)
{
    while (i < t.size() && isWs(t.at(i)))
        ++i;
    return i;
}

// i at the opening quote; returns the index after the closing quote, or -1.
qsizetype scanString(const QByteArray &t, qsizetype i)
{
    ++i;
    while (i < t.size()) {
        const char c = t.at(i);
        if (c == '\\') {
            i += 2;
            continue;
        }
        if (c == '"')
            return i + 1;
        ++i;
    }
    return -1;
}

// Returns the index after the value starting at i, or -1.
qsizetype scanValue(const QByteArray &t, qsizetype i)
{
    if (i >= t.size())
        return -1;
    const char c = t.at(i);
    if (c == '"')
        return scanString(t, i);
    if (c == '{' || c == '[') {
        int depth = 0;
        while (i < t.size()) {
            const char d = t.at(i);
            if (d == '"') {
                i = scanString(t, i);
                if (i < 0)
                    return -1;
                continue;
            }
            if (d == '{' || d == '[')
                ++depth;
            else if (d == '}' || d == ']') {
                --depth;
                if (depth == 0)
                    return i + 1;
            }
            ++i;
        }
        return -1;
    }
    while (i < t.size()) {
        const char d = t.at(i);
        if (d == ',' || d == '}' || d == ']' || isWs(d))
            break;
        ++i;
    }
    return i;
}

} // namespace

QByteArray rawJsonValue(const QByteArray &t, const QByteArray &key)
{
    qsizetype i = skipWs(t, 0);
    if (i >= t.size() || t.at(i) != '{')
        return {};
    ++i;
    while (true) {
        i = skipWs(t, i);
        if (i >= t.size() || t.at(i) != '"')
            return {};
        const qsizetype keyEnd = scanString(t, i);
        if (keyEnd < 0)
            return {};
        const QByteArray k = t.mid(i + 1, keyEnd - i - 2);
        i = skipWs(t, keyEnd);
        if (i >= t.size() || t.at(i) != ':')
            return {};
        i = skipWs(t, i + 1);
        const qsizetype valueEnd = scanValue(t, i);
        if (valueEnd < 0)
            return {};
        if (k == key)
            return t.mid(i, valueEnd - i);
        i = skipWs(t, valueEnd);
        if (i >= t.size())
            return {};
        if (t.at(i) == ',') {
            ++i;
            continue;
        }
        return {};
    }
}

QString compact(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

QJsonObject parseObject(const QByteArray &text)
{
    const QJsonDocument doc = QJsonDocument::fromJson(text);
    return doc.isObject() ? doc.object() : QJsonObject();
}

QString uniqueName(const QString &prefix)
{
    static QAtomicInt counter;
    return prefix % u'-' % QString::number(::getpid()) % u'-'
            % QString::number(counter.fetchAndAddRelaxed(1) + 1);
}

qint64 nowSecs()
{
    return QDateTime::currentSecsSinceEpoch();
}
qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

namespace Jwt {

QByteArray base64Url(const QByteArray &data)
{
    return data.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray fromBase64Url(const QByteArray &data)
{
    return QByteArray::fromBase64(data, QByteArray::Base64UrlEncoding);
}

QByteArray mint(const QByteArray &secret, const QJsonObject &claims, const QByteArray &alg)
{
    QJsonObject header{{u"alg"_s, QString::fromLatin1(alg)}, {u"typ"_s, u"JWT"_s}};
    const QByteArray signingInput = base64Url(QJsonDocument(header).toJson(QJsonDocument::Compact))
            + '.' + base64Url(QJsonDocument(claims).toJson(QJsonDocument::Compact));
    if (alg == "none")
        return signingInput + '.';
    const QByteArray sig =
            QMessageAuthenticationCode::hash(signingInput, secret, QCryptographicHash::Sha256);
    return signingInput + '.' + base64Url(sig);
}

QJsonObject header(const QByteArray &token)
{
    const QList<QByteArray> parts = token.split('.');
    if (parts.size() != 3)
        return {};
    return parseObject(fromBase64Url(parts.at(0)));
}

QJsonObject claims(const QByteArray &token)
{
    const QList<QByteArray> parts = token.split('.');
    if (parts.size() != 3)
        return {};
    return parseObject(fromBase64Url(parts.at(1)));
}

bool verifyHs256(const QByteArray &token, const QByteArray &secret)
{
    const qsizetype dot = token.lastIndexOf('.');
    if (dot < 0)
        return false;
    const QByteArray sig =
            QMessageAuthenticationCode::hash(token.left(dot), secret, QCryptographicHash::Sha256);
    return base64Url(sig) == token.mid(dot + 1);
}

} // namespace Jwt

} // namespace sbit
