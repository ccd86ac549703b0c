#pragma once

#include <QObject>

class QSocketNotifier;

namespace sb {

// Turns SIGTERM, SIGINT and SIGHUP into a Qt signal on the main thread (self-pipe trick:
// the handler only writes one byte to a socketpair).
class UnixSignals final : public QObject
{
    Q_OBJECT

public:
    explicit UnixSignals(QObject *parent = nullptr);
    ~UnixSignals() override;

Q_SIGNALS:
    void terminationRequested(int signalNumber);

private:
    void onReadable();
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace sb
