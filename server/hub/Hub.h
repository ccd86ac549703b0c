#pragma once

#include "auth/TokenService.h"
#include "base/Message.h"

#include <QHash>
#include <QList>
#include <QMutex>
#include <QSet>
#include <QString>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace sb {

class HistoryStore;
class RevocationList;

// Where the hub hands frames: one per I/O thread (IoShard). Called with the hub lock held,
// so deliveries reach each shard in id order.
class DeliverySink
{
public:
    virtual ~DeliverySink() = default;
    virtual bool hasRoomFor(qint64 writes) const = 0;
    virtual void enqueue(Delivery &&delivery) = 0;
};

struct ConnectionSnapshot
{
    ConnId id = 0;
    ConnectionKind kind = ConnectionKind::Native;
    QString user;    // null until known
    QString session; // null until known
    QStringList rooms;
    QString remote;
    QString origin;   // null when the client sent none
    QString endpoint; // Endpoint sessions: the endpoint's name
    qint64 sinceMs = 0;
    quint64 sent = 0;
    quint64 received = 0;
};

struct RoomSummary
{
    QString room;
    qint64 connections = 0;
    qint64 users = 0;
};

struct RoomMember
{
    ConnId id = 0;
    QString user;
    QString session;
    qint64 sinceMs = 0;
};

// What the admin stream shows of the hub's life (docs/API.md, "Admin stream").
struct HubEvent
{
    enum class Kind { Opened, Closed, Joined, Left } kind = Kind::Opened;
    ConnId connection = 0;
    QString room;
    QString user;
    QString session;
    int code = 0;                // Closed: the close code
    ConnectionSnapshot snapshot; // Opened: the connection as /api/connections lists it
};

// A change of what the cluster counts for `delivered` (docs/ARCHITECTURE.md, "Cluster"): a
// room's members, a user's joined connections, joined and legacy connections, and this node's
// open /ws connections (by id).
struct CountChange
{
    enum class Kind : quint8 { Room, User, Joined, Legacy, Connection, Presence };
    Kind kind = Kind::Room;
    QString key;           // the room or the user (Presence: the room)
    ConnId connection = 0; // Connection
    int delta = 0;         // +1 or -1
    QString user;          // Presence: the (user, session) pair present in the room
    QString session;

    static CountChange of(Kind kind, const QString &key, int delta, ConnId connection = 0)
    {
        CountChange c;
        c.kind = kind;
        c.key = key;
        c.delta = delta;
        c.connection = connection;
        return c;
    }
};

struct JoinResult
{
    // NeedLog: memory does not hold every event the join must replay (or the room's latest
    // id); nothing changed. Fetch the room's events up to needLogUpTo from the message log,
    // seedRoom() with the latest id found, and join again with logCoveredUpTo = needLogUpTo.
    enum class Status { Joined, Forbidden, Revoked, Gone, NeedLog } status = Status::Gone;
    quint64 needLogUpTo = 0;
    quint64 lastId = 0;
    bool recovered = true;
    bool replayTooLarge = false; // the missed events passed the replay budget: none replayed
    QList<QByteArray> replay;    // wire frames of missed events, oldest first
};

// Connections, users and rooms; gives every emit its id, builds its frame once, appends it to
// the room's history and hands it to the shards that own the members. Thread-safe: REST
// handlers call it from the HTTP thread, client frames from the I/O threads. The history
// (ids, events, presence) is the HistoryStore given here, which the hub calls only under its
// lock; it must outlive the hub.
class Hub
{
public:
    explicit Hub(HistoryStore &history, const RevocationList *revocations = nullptr);
    ~Hub();

    void setSinks(QList<DeliverySink *> sinks);
    int shardCount() const { return int(m_sinks.size()); }

    // Connection lifecycle, called by the shard that owns the connection.
    // Endpoint sessions name their endpoint and the token's user (null without auth).
    ConnId openConnection(int shard, ConnectionKind kind, const QString &remote,
                          const QString &origin, std::shared_ptr<ConnectionCounters> counters,
                          const QString &endpoint = {}, const QString &user = {});
    // Returns the rooms the connection was in (for logging and observers).
    QStringList closeConnection(ConnId id, int code = 1006);

    // `logCoveredUpTo`: the caller replays the room's events with ids in (since,
    // logCoveredUpTo] itself, from the message log; memory supplies those above.
    // `noMoreLog`: join with what memory holds even if it falls short (recovered: false then
    // comes from the caller), after the log was asked too many times.
    JoinResult join(ConnId id, const TokenClaims &claims, std::optional<quint64> since,
                    quint64 logCoveredUpTo = 0, bool noMoreLog = false);
    // A room the history store knows nothing of: its latest id as the message log has it
    // (HistoryStore::seedRoom).
    void seedRoom(const QString &room, quint64 lastIdInLog);
    // With a message log, joins ask for it (NeedLog) where the history store falls short.
    void setLogBacked(bool backed);
    // Most bytes one join replays from the store (the connection's max_queue_bytes: a longer
    // replay would only get it closed as a slow client). Past it the join replays nothing and
    // answers recovered: false, so the page reloads its data instead.
    void setReplayBudget(qint64 bytes);
    // Rooms with a history record now (tests and metrics).
    qsizetype historyRooms() const;
    // The wire frame of an event, as live emits and replays send it.
    static QByteArray eventWire(quint64 id, const QString &event, const QString *room,
                                const QByteArray &data, qint64 ts);
    bool leave(ConnId id, const QString &room);
    // (user, session) pairs of the room, one each (HistoryStore::presence, which the hub keeps
    // up to date as members join and leave); nullopt when `id` is not a member.
    std::optional<QList<QPair<QString, QString>>> presence(ConnId id, const QString &room) const;
    bool mayPublish(ConnId id, const QString &room) const;

    EmitResult publish(const EmitRequest &request);
    // Cluster: whether an emit the node is about to send for ordering may go (the log's and the
    // shards' queues have room, as publish() checks), and whether the sender it excludes is
    // one of its targets (EmitRequest::excludeIsTarget). False: refuse it like publish().
    bool admitForOrdering(EmitRequest &request) const;
    // Cluster: hands an emit the cluster ordered to this node's members (its record, the
    // room's history, the frames), as publish() does with an id of its own. False: the shards'
    // queues cannot take it now; nothing happened, hand it again later.
    bool deliverOrdered(const OrderedEmit &emit);
    // Cluster: connection ids carry the node's number (connectionIdText). Before any opens.
    void setNodeNumber(quint64 node);
    // Removes (room, user, session) members, telling them {"type":"left",...,"reason":"revoked"}.
    qint64 revoke(const QString &room, const QString &user, const QString &session);
    bool closeConnectionWithCode(ConnId id, quint16 code);
    bool sendRaw(ConnId id, const QByteArray &utf8Text);

    QList<ConnectionSnapshot> connections(const QString &room = {}, const QString &user = {}) const;
    std::optional<ConnectionSnapshot> connection(ConnId id) const;
    // The sessions of one endpoint (`endpoint` null: of every endpoint), by id.
    QList<ConnectionSnapshot> endpointSessions(const QString &endpoint = {}) const;
    // Open sessions per endpoint (kept as sessions open and close: no walk over connections).
    QHash<QString, qint64> endpointSessionCounts() const;
    QList<RoomSummary> rooms() const;
    QList<RoomMember> roomMembers(const QString &room) const;
    HubStats stats() const;
    qint64 openCount() const { return m_openCount.load(std::memory_order_relaxed); }
    // The highest id given so far (any room).
    quint64 lastId() const;

    // Ids continue from the message log after a restart; events up to `id` are then only in
    // the log, not in memory.
    void setLastId(quint64 id);
    // Called (under the hub lock, in order) for every /ws connection opened or closed and
    // every membership that begins or ends. Must be cheap: it runs on the hot paths.
    void setEventObserver(std::function<void(const HubEvent &)> observer);
    // Called (under the hub lock, in id order) for every accepted emit.
    void setRecordObserver(std::function<void(const MessageRecord &)> observer);
    // Asked (under the hub lock) before an emit is accepted: false refuses it like full
    // delivery queues do (the message log's queue is full).
    void setRecordGate(std::function<bool()> hasRoom);
    // Cluster: called (under the hub lock) for every change of what the cluster counts.
    void setCountObserver(std::function<void(const CountChange &)> observer);
    // Cluster: calls `take` under the hub lock with everything counted now, as changes from
    // zero, so that no change is lost or counted twice between the snapshot and the observer.
    void snapshotCounts(const std::function<void(const QList<CountChange> &)> &take) const;
    // Closes every /ws connection with `code` (1012: the cluster lost events they may have
    // missed; they rejoin with since and recover). Returns how many.
    qint64 closeAllNative(quint16 code);

private:
    struct Membership
    {
        QString user;
        QString session;
        qint64 sinceMs = 0;
        qsizetype pos = -1; // index in the room's list for the connection's shard
        bool publish = false;
    };
    struct Room
    {
        std::vector<QList<ConnId>> byShard;
        QHash<ConnId, Membership> members;
    };
    struct Conn
    {
        int shard = 0;
        ConnectionKind kind = ConnectionKind::Native;
        QString user;
        QString session;
        QString remote;
        QString origin;
        QString endpoint; // Endpoint sessions
        qint64 sinceMs = 0;
        QStringList rooms; // a handful at most: a list is smaller than a set
        // Indexes in m_joinedByShard, m_users and m_legacyByShard: removal is O(1).
        qsizetype joinedPos = -1;
        qsizetype userPos = -1;
        qsizetype legacyPos = -1;
        std::shared_ptr<ConnectionCounters> counters;
    };

    ConnectionSnapshot snapshotLocked(ConnId id, const Conn &c) const;
    void removeMembershipLocked(ConnId id, Conn &conn, const QString &room);
    void setJoinedLocked(ConnId id, Conn &conn, bool joined);
    void addMembershipLocked(ConnId id, Conn &conn, const TokenClaims &claims);
    void notifyLocked(HubEvent::Kind kind, ConnId id, const QString &room, const QString &user = {},
                      const QString &session = {});
    // Connections an event frame reaches, per shard.
    void eventTargetsLocked(const EmitRequest &request, std::vector<QList<ConnId>> &targets) const;
    void recordLocked(const EmitRequest &request, quint64 id, qint64 delivered, qint64 ts,
                      const QString &node);
    // An emit's targets on this node, per shard, and what it counts here.
    struct Routing
    {
        std::vector<QList<ConnId>> targets;
        std::vector<QList<ConnId>> legacy;
        EmitResult counts;
    };
    // Fills `routing`; false when the shards' or the log's queues cannot take the emit now.
    bool routeLocked(const EmitRequest &request, Routing &routing) const;
    // What publish() and deliverOrdered() share once the id is known: record, history, frames.
    void deliverLocked(const EmitRequest &request, quint64 id, qint64 ts, Routing &routing,
                       bool countIn);
    void countLocked(CountChange::Kind kind, const QString &key, int delta, ConnId id = 0);
    // The history store's presence and the cluster's count of it, together.
    void presenceLocked(const QString &room, const QString &user, const QString &session,
                        int delta);
    bool sinksHaveRoomLocked(const std::vector<qint64> &writesPerShard) const;
    // Removes list[pos] by moving the last element into its place (order does not matter);
    // tells the caller which id moved where so it can update that id's stored index. O(1),
    // so ten thousand clients leaving one room cost ten thousand steps, not fifty million.
    template<typename OnMoved>
    static void swapRemove(QList<ConnId> &list, qsizetype pos, OnMoved onMoved);

    HistoryStore &m_history;
    const RevocationList *m_revocations;
    QList<DeliverySink *> m_sinks;

    mutable QMutex m_mutex;
    ConnId m_nextConnId = 1;
    QHash<ConnId, Conn> m_conns;
    QHash<QString, Room> m_rooms;
    bool m_logBacked = false;
    qint64 m_replayBudget = 8 * 1024 * 1024;
    QHash<QString, QList<ConnId>> m_users;      // user -> its connections in at least one room
    std::vector<QList<ConnId>> m_joinedByShard; // connections in at least one room, per shard
    std::vector<QList<ConnId>> m_legacyByShard; // legacy connections, per shard
    qint64 m_nativeCount = 0;
    qint64 m_legacyCount = 0;
    qint64 m_endpointCount = 0;
    QHash<QString, qint64> m_sessionsByEndpoint;
    std::function<void(const MessageRecord &)> m_observer;
    std::function<void(const HubEvent &)> m_eventObserver;
    std::function<bool()> m_gate;
    std::function<void(const CountChange &)> m_countObserver;

    std::atomic<qint64> m_openCount{0};
    std::array<std::atomic<quint64>, kEmitSourceCount> m_messagesIn{}; // by EmitSource
    std::atomic<quint64> m_messagesOut{0};
};

} // namespace sb
