#include "widgets/LogPanel.h"

#include "backend/ConsoleBackend.h"
#include "models/LogFilterProxy.h"
#include "models/LogModel.h"
#include "util/JsonText.h"
#include "util/LogExport.h"
#include "widgets/PanelSetup.h"

#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPointer>
#include <QSaveFile>
#include <QScrollBar>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace sb::ui {

namespace {
constexpr int kOlderPage = 200;
} // namespace

LogPanel::LogPanel(ConsoleBackend *backend, LogModel *model, QWidget *parent)
    : QWidget(parent),
      m_backend(backend),
      m_model(model),
      m_proxy(new LogFilterProxy(model, this)),
      m_view(new QTableView(this)),
      m_detail(new QPlainTextEdit(this)),
      m_splitter(new QSplitter(Qt::Vertical, this)),
      m_room(new QLineEdit(this)),
      m_user(new QLineEdit(this)),
      m_event(new QLineEdit(this)),
      m_text(new QLineEdit(this)),
      m_pause(new QToolButton(this)),
      m_follow(new QToolButton(this)),
      m_status(new QLabel(this))
{
    QHBoxLayout *bar = buildFilterBar();
    buildRecordView();
    m_detail->setObjectName(QStringLiteral("logDetail"));
    m_detail->setReadOnly(true);
    m_detail->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_detail->setPlaceholderText(tr("Select a record to see its data"));

    m_splitter->addWidget(m_view);
    m_splitter->addWidget(m_detail);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setObjectName(QStringLiteral("logSplitter"));

    QVBoxLayout *layout = setUpPanelLayout(this, bar);
    layout->addWidget(m_splitter, 1);
    layout->addWidget(m_status);

    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &LogPanel::rowsArrived);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &LogPanel::rowsArrived);
    connect(m_model, &LogModel::countsChanged, this, &LogPanel::updateStatus);
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] { m_reachedStart = false; });
    updateStatus();
}

// The filters and the buttons above the records.
QHBoxLayout *LogPanel::buildFilterBar()
{
    const auto setupFilter = [this](QLineEdit *edit, const QString &name, const QString &hint) {
        setUpFilterField(edit, name, hint);
        connect(edit, &QLineEdit::textChanged, this, &LogPanel::filtersChanged);
    };
    setupFilter(m_room, QStringLiteral("logRoomFilter"), tr("Room"));
    setupFilter(m_user, QStringLiteral("logUserFilter"), tr("User"));
    setupFilter(m_event, QStringLiteral("logEventFilter"), tr("Event"));
    setupFilter(m_text, QStringLiteral("logTextFilter"), tr("Text in data, names, address"));

    m_pause->setObjectName(QStringLiteral("logPause"));
    m_pause->setText(tr("Pause"));
    m_pause->setCheckable(true);
    m_pause->setToolTip(tr("Hold new records (they are kept and shown on resume)"));
    connect(m_pause, &QToolButton::toggled, this, &LogPanel::setPaused);
    m_follow->setObjectName(QStringLiteral("logFollow"));
    m_follow->setText(tr("Follow"));
    m_follow->setCheckable(true);
    m_follow->setChecked(true);
    m_follow->setToolTip(tr("Keep the newest record in view"));
    connect(m_follow, &QToolButton::toggled, this, [this](bool on) {
        if (on)
            m_view->scrollToBottom();
    });
    auto *exportButton = new QToolButton(this);
    exportButton->setText(tr("Export..."));
    exportButton->setToolTip(tr("Save the rows the filters show as CSV or JSON"));
    connect(exportButton, &QToolButton::clicked, this, [this] { exportRows(); });
    auto *older = new QToolButton(this);
    older->setText(tr("Older"));
    older->setToolTip(tr("Load older records from the server's message log"));
    connect(older, &QToolButton::clicked, this, &LogPanel::loadOlder);
    auto *clear = new QToolButton(this);
    clear->setText(tr("Clear"));
    clear->setToolTip(tr("Empty this view (the server's log keeps everything)"));
    connect(clear, &QToolButton::clicked, m_model, &LogModel::clear);

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_room, 2);
    bar->addWidget(m_user, 1);
    bar->addWidget(m_event, 1);
    bar->addWidget(m_text, 2);
    bar->addWidget(m_pause);
    bar->addWidget(m_follow);
    bar->addWidget(older);
    bar->addWidget(exportButton);
    bar->addWidget(clear);
    return bar;
}

// The table of records: fixed row heights (no per-row measuring, whatever the number of
// rows); scrolling to the top loads older history, scrolling away from the bottom stops
// following.
void LogPanel::buildRecordView()
{
    setUpRecordTable(m_view, QStringLiteral("logView"), m_proxy,
                     QAbstractItemView::SingleSelection);
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->setColumnWidth(LogModel::Id, 56);
    m_view->setColumnWidth(LogModel::Time, 96);
    m_view->setColumnWidth(LogModel::Node, 80);
    // The Node column shows only for records of a cluster (docs/API.md, "Admin stream").
    m_view->setColumnHidden(LogModel::Node, !m_model->hasNodes());
    connect(m_model, &LogModel::hasNodesChanged, this,
            [this](bool has) { m_view->setColumnHidden(LogModel::Node, !has); });
    m_view->setColumnWidth(LogModel::Source, 62);
    m_view->setColumnWidth(LogModel::Target, 62);
    m_view->setColumnWidth(LogModel::To, 120);
    m_view->setColumnWidth(LogModel::Event, 150);
    m_view->setColumnWidth(LogModel::Delivered, 70);
    m_view->setColumnWidth(LogModel::Data, 300);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &LogPanel::showDetail);
    connect(m_view->verticalScrollBar(), &QScrollBar::actionTriggered, this, [this] {
        QScrollBar *scroll = m_view->verticalScrollBar();
        QTimer::singleShot(0, this, [this, scroll] {
            m_follow->setChecked(scroll->value() >= scroll->maximum());
            if (scroll->value() == scroll->minimum() && scroll->maximum() > 0)
                loadOlder();
        });
    });
}

void LogPanel::setRoomFilter(const QString &room)
{
    m_room->setText(room);
}

void LogPanel::setFollow(bool follow)
{
    m_follow->setChecked(follow);
}

void LogPanel::setPaused(bool paused)
{
    if (m_pause->isChecked() != paused)
        m_pause->setChecked(paused);
    m_model->setPaused(paused);
    m_pause->setText(paused ? tr("Resume") : tr("Pause"));
    updateStatus();
}

void LogPanel::filtersChanged()
{
    m_proxy->setRoom(m_room->text());
    m_proxy->setUser(m_user->text());
    m_proxy->setEvent(m_event->text());
    m_proxy->setText(m_text->text());
    m_reachedStart = false;
    if (m_follow->isChecked())
        m_view->scrollToBottom();
    updateStatus();
}

void LogPanel::rowsArrived()
{
    if (m_follow->isChecked())
        m_view->scrollToBottom();
    updateStatus();
}

void LogPanel::updateStatus()
{
    const QLocale locale;
    QString text = m_proxy->isFiltering()
            ? tr("%1 of %2 records")
                      .arg(locale.toString(m_proxy->rowCount()),
                           locale.toString(m_model->rowCount()))
            : tr("%1 records").arg(locale.toString(m_model->rowCount()));
    if (m_model->isPaused())
        text += tr(" | paused, %1 waiting").arg(locale.toString(m_model->pendingCount()));
    if (m_model->droppedCount() > 0)
        text += tr(" | %1 not shown during floods (in the server's log)")
                        .arg(locale.toString(qulonglong(m_model->droppedCount())));
    if (m_loadingOlder)
        text += tr(" | loading older records...");
    else if (m_reachedStart)
        text += tr(" | start of the log");
    m_status->setText(text);
}

QString LogPanel::detailText(const LogRecord &r)
{
    QString text;
    text += tr("id %1   %2   source %3").arg(r.id).arg(LogModel::timeText(r.ts), r.source);
    if (!r.node.isEmpty())
        text += tr("   node %1").arg(r.node);
    text += u'\n';
    text += tr("to %1%2   event %3   delivered %4   from %5\n\n")
                    .arg(r.target, r.to.isEmpty() ? QString() : QStringLiteral(" ") + r.to, r.event)
                    .arg(r.delivered)
                    .arg(r.remote);
    text += jsontext::pretty(r.data.isEmpty() ? QByteArray("null") : r.data);
    return text;
}

void LogPanel::showDetail()
{
    const QModelIndex current = m_view->currentIndex();
    if (!current.isValid()) {
        m_detail->clear();
        return;
    }
    const QModelIndex source = m_proxy->mapToSource(current);
    m_detail->setPlainText(detailText(m_model->at(source.row())));
}

QList<LogRecord> LogPanel::filteredRecords() const
{
    QList<LogRecord> out;
    out.reserve(m_proxy->rowCount());
    for (int row = 0; row < m_proxy->rowCount(); ++row)
        out.append(m_model->at(m_proxy->mapToSource(m_proxy->index(row, 0)).row()));
    return out;
}

void LogPanel::exportRows(const QString &givenPath)
{
    QString path = givenPath;
    if (path.isEmpty()) {
        QString selected;
        path = QFileDialog::getSaveFileName(this, tr("Export log rows"),
                                            QStringLiteral("switchboard-log.csv"),
                                            tr("CSV (*.csv);;JSON (*.json)"), &selected);
        if (path.isEmpty())
            return;
        if (QFileInfo(path).suffix().isEmpty())
            path += selected.contains(u"json") ? QStringLiteral(".json") : QStringLiteral(".csv");
    }
    const QList<LogRecord> records = filteredRecords();
    const bool json = path.endsWith(u".json", Qt::CaseInsensitive);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)
        || file.write(json ? logexport::json(records) : logexport::csv(records)) < 0
        || !file.commit()) {
        Q_EMIT message(tr("Export to %1 failed: %2").arg(path, file.errorString()), true);
        return;
    }
    Q_EMIT message(tr("%n record(s) exported to %1", nullptr, int(records.size())).arg(path),
                   false);
}

void LogPanel::loadOlder()
{
    if (m_loadingOlder || m_reachedStart)
        return;
    if (m_backend->state() != ConsoleBackend::State::Live)
        return;
    ConsoleBackend::LogFilter filter;
    filter.room = m_proxy->room();
    filter.user = m_proxy->user();
    filter.event = m_proxy->event();
    // The oldest row that this filter shows; with no rows, the newest records.
    for (int row = 0; row < m_proxy->rowCount() && filter.beforeId == 0; ++row)
        filter.beforeId =
                m_proxy->index(row, LogModel::Id).data(LogModel::RecordIdRole).toULongLong();
    if (filter.beforeId == 0)
        filter.beforeId = m_model->oldestId();
    if (filter.beforeId == 1) {
        m_reachedStart = true;
        updateStatus();
        return;
    }
    filter.limit = kOlderPage;
    m_loadingOlder = true;
    updateStatus();
    QPointer<LogPanel> self(this);
    m_backend->fetchLog(filter, [self](const QList<LogRecord> &records, const QString &error) {
        if (!self)
            return;
        self->m_loadingOlder = false;
        if (!error.isEmpty()) {
            Q_EMIT self->message(tr("Loading older records failed: %1").arg(error), true);
        } else {
            QScrollBar *bar = self->m_view->verticalScrollBar();
            const int before = self->m_proxy->rowCount();
            const bool added = self->m_model->prepend(records);
            if (records.size() < kOlderPage || !added)
                self->m_reachedStart = true;
            // Keep the rows that were in view where they were (the bar counts rows).
            bar->setValue(bar->value() + (self->m_proxy->rowCount() - before));
        }
        self->updateStatus();
    });
}

} // namespace sb::ui
