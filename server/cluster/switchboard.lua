#!lua name=switchboard
-- The cluster's functions in Redis (docs/ARCHITECTURE.md, "Cluster"). Each call is atomic:
-- Redis runs one function at a time, which is what orders emits across nodes.
--
-- Keys (prefix sb:):
--   sb:id             the last emit id given (INCR)
--   sb:epoch          a value chosen by the first node; gone when Redis lost its data
--   sb:secret         a keyed hash of jwt_secret (never the secret): nodes must agree
--   sb:node-seq       the last node number given; sb:node-names: name -> number
--   sb:alive:<k>      node k's run id, expiring 5 s after its last heartbeat
--   sb:nodes          k -> the node's JSON (GET /api/nodes)
--   sb:bus            every emit, stream entry <id>-0, read by every node (XREAD)
--   sb:h:<room>       the room's last events, entry <id>-0 with p = the room's previous id
--   sb:c:r:<room>, sb:c:u:<user>, sb:c:j, sb:c:l
--                     k -> node k's members of the room, connections of the user, joined and
--                     legacy connections (what `delivered` counts)
--   sb:conns:<k>      node k's open /ws connections (their local number m of n<k>.c<m>)
--   sb:p:<room>       k|[user,session] -> node k's connections present with that pair
--   sb:keys:<k>       the count keys node k has a field in (to clear them when k goes)

local function alive(k)
  return redis.call('EXISTS', 'sb:alive:' .. k) == 1
end

-- The counts of the live nodes in a count hash.
local function live_sum(key)
  local flat = redis.call('HGETALL', key)
  local n = 0
  for i = 1, #flat, 2 do
    if alive(flat[i]) then n = n + tonumber(flat[i + 1]) end
  end
  return n
end

-- Removes everything node k counted (it stopped, died, or starts again after a crash).
local function reset_node(k)
  local prefix = k .. '|'
  for _, key in ipairs(redis.call('SMEMBERS', 'sb:keys:' .. k)) do
    if string.sub(key, 1, 5) == 'sb:p:' then
      for _, field in ipairs(redis.call('HKEYS', key)) do
        if string.sub(field, 1, #prefix) == prefix then redis.call('HDEL', key, field) end
      end
    else
      redis.call('HDEL', key, k)
    end
  end
  redis.call('DEL', 'sb:keys:' .. k, 'sb:conns:' .. k)
end

-- args: name, secret hash, number hint (0: none), run id, previous run id (from the data
-- dir), epoch candidate, highest id the node has logged.
-- Returns {k, epoch, last id} or an error naming the field in conflict.
local function join(keys, args)
  local name, secret, hint, run, prevRun, epoch, logged =
    args[1], args[2], tonumber(args[3]), args[4], args[5], args[6], tonumber(args[7])
  local known = redis.call('GET', 'sb:secret')
  if known and known ~= secret then
    return redis.error_reply('jwt_secret: this node\'s jwt_secret differs from the cluster\'s')
  end
  if not known then redis.call('SET', 'sb:secret', secret) end
  local k = tonumber(redis.call('HGET', 'sb:node-names', name))
  if not k and hint > 0 then
    -- Redis lost the mapping: keep the number of the data dir unless another name holds it.
    local holder = redis.call('GET', 'sb:alive:' .. hint)
    if not holder then k = hint end
  end
  if not k then
    repeat k = redis.call('INCR', 'sb:node-seq') until not alive(k)
  end
  if tonumber(redis.call('GET', 'sb:node-seq') or '0') < k then
    redis.call('SET', 'sb:node-seq', k)
  end
  local holder = redis.call('GET', 'sb:alive:' .. k)
  if holder and holder ~= prevRun then
    return redis.error_reply('node_name: "' .. name .. '" is held by a live node')
  end
  redis.call('HSET', 'sb:node-names', name, k)
  reset_node(k)
  redis.call('SET', 'sb:alive:' .. k, run, 'PX', 5000)
  if redis.call('SET', 'sb:epoch', epoch, 'NX') then
    -- a new cluster, or Redis restarted empty
  end
  local id = tonumber(redis.call('GET', 'sb:id') or '0')
  if logged > id then
    redis.call('SET', 'sb:id', logged)
    id = logged
  end
  return {k, redis.call('GET', 'sb:epoch'), id}
end

-- args: k, run id, node JSON, highest id the node has seen.
-- Returns {epoch or false, last id, live node JSONs...}: the caller notices a lost epoch or
-- an id below what it saw (Redis lost data) and recovers.
local function heartbeat(keys, args)
  local k, run, info, seen = args[1], args[2], args[3], tonumber(args[4])
  local holder = redis.call('GET', 'sb:alive:' .. k)
  if holder and holder ~= run then
    return redis.error_reply('node_name: another node took this node\'s number')
  end
  redis.call('SET', 'sb:alive:' .. k, run, 'PX', 5000)
  redis.call('HSET', 'sb:nodes', k, info)
  local epoch = redis.call('GET', 'sb:epoch')
  local id = tonumber(redis.call('GET', 'sb:id') or '0')
  local out = {epoch or false, id}
  local flat = redis.call('HGETALL', 'sb:nodes')
  for i = 1, #flat, 2 do
    if alive(flat[i]) then
      out[#out + 1] = flat[i + 1]
    else
      reset_node(flat[i])
      redis.call('HDEL', 'sb:nodes', flat[i])
    end
  end
  return out
end

-- A node that (re)connects after a loss: its counts are set again from scratch; if Redis lost
-- its data (no epoch), the first node back starts a new epoch with ids above every id seen,
-- and the node's name, number and the secret check are written again.
-- args: k, run id, new epoch, highest id the node has seen or logged, name, secret hash.
local function rejoin(keys, args)
  local k, run, epoch, seen, name, secret =
    args[1], args[2], args[3], tonumber(args[4]), args[5], args[6]
  if not redis.call('GET', 'sb:epoch') then redis.call('SET', 'sb:epoch', epoch) end
  redis.call('SET', 'sb:secret', secret, 'NX')
  redis.call('HSET', 'sb:node-names', name, k)
  if tonumber(redis.call('GET', 'sb:node-seq') or '0') < tonumber(k) then
    redis.call('SET', 'sb:node-seq', k)
  end
  local id = tonumber(redis.call('GET', 'sb:id') or '0')
  if seen > id then
    redis.call('SET', 'sb:id', seen)
    id = seen
  end
  reset_node(k)
  redis.call('SET', 'sb:alive:' .. k, run, 'PX', 5000)
  return {redis.call('GET', 'sb:epoch'), id}
end

-- A node that stops (SIGTERM) leaves at once. args: k, run id.
local function leave(keys, args)
  local k, run = args[1], args[2]
  if redis.call('GET', 'sb:alive:' .. k) == run then
    redis.call('DEL', 'sb:alive:' .. k)
    redis.call('HDEL', 'sb:nodes', k)
    reset_node(k)
  end
  return 1
end

-- Count changes of node k: args k, then (key, delta) pairs. A field that reaches 0 goes.
local function count(keys, args)
  local k = args[1]
  for i = 2, #args, 2 do
    local key, delta = args[i], tonumber(args[i + 1])
    if string.sub(key, 1, 1) == '+' or string.sub(key, 1, 1) == '-' then
      -- a connection opened (+m) or closed (-m)
      if string.sub(key, 1, 1) == '+' then
        redis.call('SADD', 'sb:conns:' .. k, string.sub(key, 2))
      else
        redis.call('SREM', 'sb:conns:' .. k, string.sub(key, 2))
      end
    else
      local n = redis.call('HINCRBY', key, k, delta)
      if n <= 0 then
        redis.call('HDEL', key, k)
        redis.call('SREM', 'sb:keys:' .. k, key)
      else
        redis.call('SADD', 'sb:keys:' .. k, key)
      end
    end
  end
  return 1
end

-- Presence changes of node k: args k, then (room, member, delta) triples; member is the
-- JSON array [user, session].
local function presence_count(keys, args)
  local k = args[1]
  for i = 2, #args, 3 do
    local key, field, delta = 'sb:p:' .. args[i], k .. '|' .. args[i + 1], tonumber(args[i + 2])
    local n = redis.call('HINCRBY', key, field, delta)
    if n <= 0 then
      redis.call('HDEL', key, field)
    end
    redis.call('SADD', 'sb:keys:' .. k, key)
  end
  return 1
end

-- The (user, session) pairs present in a room on the live nodes, each once: member JSONs.
local function presence(keys, args)
  local flat = redis.call('HGETALL', 'sb:p:' .. args[1])
  local seen, out = {}, {}
  for i = 1, #flat, 2 do
    local bar = string.find(flat[i], '|', 1, true)
    local k, member = string.sub(flat[i], 1, bar - 1), string.sub(flat[i], bar + 1)
    if tonumber(flat[i + 1]) > 0 and not seen[member] and alive(k) then
      seen[member] = true
      out[#out + 1] = member
    end
  end
  return out
end

-- One emit: its id, the room's history, the bus entry and the cluster's counts.
-- args: target (room|user|all|connection|legacy), to, event, data, ts, exclude is a target
-- (0/1), event frame (0/1), has legacy text (0/1), connection node k, connection number m,
-- history depth, history ttl ms, bus depth, header, legacy text.
-- The header (packed by the accepting node: its name, the target, the names, ts, source,
-- remote, exclude, flags) goes to the bus as it is; every node reads it.
local function emit(keys, args)
  local target, to, event, data, ts, excludeIsTarget, eventFrame, hasLegacy, connK, connM,
        depth, ttl, busDepth, header, legacy =
    args[1], args[2], args[3], args[4], args[5], tonumber(args[6]), args[7], args[8], args[9],
    args[10], args[11], args[12], args[13], args[14], args[15]
  local delivered, legacyDelivered = 0, 0
  if eventFrame == '1' then
    if target == 'room' then
      delivered = live_sum('sb:c:r:' .. to)
    elseif target == 'user' then
      delivered = live_sum('sb:c:u:' .. to)
    elseif target == 'all' then
      delivered = live_sum('sb:c:j')
    elseif target == 'connection' then
      if connK ~= '0' and alive(connK)
         and redis.call('SISMEMBER', 'sb:conns:' .. connK, connM) == 1 then
        delivered = 1
      end
    end
    delivered = math.max(0, delivered - excludeIsTarget)
  end
  if hasLegacy == '1' then legacyDelivered = live_sum('sb:c:l') end
  local id = redis.call('INCR', 'sb:id')
  local sid = string.format('%d-0', id)
  if eventFrame == '1' and target == 'room' then
    local hkey = 'sb:h:' .. to
    local last = redis.call('XREVRANGE', hkey, '+', '-', 'COUNT', 1)
    local prev = '0'
    if #last > 0 then prev = string.match(last[1][1], '^(%d+)') end
    redis.call('XADD', hkey, 'MAXLEN', '~', depth, sid, 'p', prev, 'e', event, 'd', data, 't', ts)
    redis.call('PEXPIRE', hkey, ttl)
  end
  local counts = delivered .. ' ' .. legacyDelivered
  if hasLegacy == '1' then
    redis.call('XADD', 'sb:bus', 'MAXLEN', '~', busDepth, sid,
               'h', header, 'd', data, 'c', counts, 'l', legacy)
  else
    redis.call('XADD', 'sb:bus', 'MAXLEN', '~', busDepth, sid, 'h', header, 'd', data, 'c', counts)
  end
  return {id, delivered, legacyDelivered}
end

redis.register_function('sb_join', join)
redis.register_function('sb_heartbeat', heartbeat)
redis.register_function('sb_rejoin', rejoin)
redis.register_function('sb_leave', leave)
redis.register_function('sb_count', count)
redis.register_function('sb_emit', emit)
redis.register_function('sb_presence_count', presence_count)
redis.register_function{function_name = 'sb_presence', callback = presence,
                        flags = {'no-writes'}}
