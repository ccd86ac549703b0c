#pragma once

#include "backend/ConsoleTypes.h"

#include <QWidget>

class QHBoxLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSplitter;
class QTableView;
class QToolButton;

namespace sb::ui {

class ConsoleBackend;
class LogFilterProxy;
class LogModel;

// The live message log: filters (room, user, event, text), pause and follow, a detail pane
// with the record and its data pretty-printed, export of the filtered rows (CSV, JSON), and
// older history from GET /api/log when scrolled to the top.
class LogPanel final : public QWidget
{
    Q_OBJECT

public:
    LogPanel(ConsoleBackend *backend, LogModel *model, QWidget *parent = nullptr);

    LogFilterProxy *proxy() const { return m_proxy; }
    QTableView *view() const { return m_view; }
    QPlainTextEdit *detail() const { return m_detail; }
    QSplitter *splitter() const { return m_splitter; }

    void setRoomFilter(const QString &room);
    void setFollow(bool follow);
    void setPaused(bool paused);
    // The records the filters show, oldest first.
    QList<LogRecord> filteredRecords() const;
    // Loads a page of older records (with the room/user/event filter) before the oldest row.
    void loadOlder();
    bool isLoadingOlder() const { return m_loadingOlder; }
    bool reachedStart() const { return m_reachedStart; }

    static QString detailText(const LogRecord &record);

public Q_SLOTS:
    void exportRows(const QString &path = QString());

Q_SIGNALS:
    void message(const QString &text, bool error);

private:
    QHBoxLayout *buildFilterBar();
    void buildRecordView();
    void filtersChanged();
    void rowsArrived();
    void showDetail();
    void updateStatus();

    ConsoleBackend *m_backend;
    LogModel *m_model;
    LogFilterProxy *m_proxy;
    QTableView *m_view;
    QPlainTextEdit *m_detail;
    QSplitter *m_splitter;
    QLineEdit *m_room;
    QLineEdit *m_user;
    QLineEdit *m_event;
    QLineEdit *m_text;
    QToolButton *m_pause;
    QToolButton *m_follow;
    QLabel *m_status;
    bool m_loadingOlder = false;
    bool m_reachedStart = false;
};

} // namespace sb::ui
