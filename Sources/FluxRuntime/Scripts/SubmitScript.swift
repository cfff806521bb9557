/// Accepts one submission atomically: idempotency check, task record, ingest entry, first
/// timeline entry, tenant index. It takes no epoch on purpose: the ingest stream is the queue in
/// front of the slot's owner, so a submission is durable even while the slot has no owner
/// (router failover); admission, which does need the epoch, happens when the owner consumes it.
///
/// KEYS: 1 idem zset, 2 idem values hash, 3 task hash, 4 ingest stream, 5 timeline, 6 tenant tasks,
///       7 tenant config hash, 8 slot live hash, 9 slot storage ledger, 10 slot events stream
/// ARGV: 1 now ms, 2 idem member or "", 3 body sha256, 4 idem ttl ms, 5 task id, 6 tenant,
///       7 timeline ttl ms, 8 index (and record) retention ms, 9 "1" when the caller chose the
///       task id, 10 door cost ("1"; "0" when `DoorScript.batch` already admitted it), 11 the
///       bytes the task's records hold (also its `bytes` field), 12… task hash field/value pairs
/// A replay or a repeat of a chosen id writes nothing and passes without the door; anything new
/// goes through `DoorScript.check` first and is refused whole when it does not pass.
/// The tenant index forgets entries older than the task records' retention (at most 100 per
/// sweep, one submission in 16 sweeps), so it does not outgrow the records it points to. Expired
/// idempotency keys are swept by the next keyed submission of the slot, and the whole key set
/// expires when no keyed submission came for a key TTL. The record starts with an empty `queue`
/// field: the transition script then knows the task is in none of the scheduling sets.
/// A caller-chosen id (the router's signed retry identity) that already names a task of the same
/// tenant with the same body (`body_sha`) means this very submission was written before:
/// {"existing", id}; any other task under that id: conflict.
/// Returns {"created", id} | {"replay", id} | {"existing", id} | {"conflict", id} |
///         {"rate_limited", retry ms} | {"quota_exceeded", "n/max"} |
///         {"storage_exceeded", "<retry ms> <bytes>/<max>"}
enum SubmitScript {
    static let source = """
    local now = tonumber(ARGV[1])
    local idem = ARGV[2]
    if idem ~= '' then
      local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 100)
      if #expired > 0 then
        redis.call('ZREM', KEYS[1], unpack(expired))
        redis.call('HDEL', KEYS[2], unpack(expired))
      end
      local previous = redis.call('HGET', KEYS[2], idem)
      if previous then
        local space = string.find(previous, ' ', 1, true)
        local id = string.sub(previous, 1, space - 1)
        if string.sub(previous, space + 1) == ARGV[3] then return {'replay', id} end
        return {'conflict', id}
      end
    end
    if ARGV[9] == '1' then
      local known = redis.call('HMGET', KEYS[3], 'tenant', 'body_sha')
      if known[1] == ARGV[6] and known[2] == ARGV[3] then return {'existing', ARGV[5]} end
      if known[1] then return {'conflict', ARGV[5]} end
    end
    local config, live, stored, tenant, cost = KEYS[7], KEYS[8], KEYS[9], ARGV[6], tonumber(ARGV[10])
    local bytes, horizon = tonumber(ARGV[11]), math.ceil(tonumber(ARGV[8]) / 86400000) + 1
    if cost > 0 then
    """ + "\n" + DoorScript.check + "\n" + """
      if door then return door end
    end
    redis.call('HSET', KEYS[3], unpack(ARGV, 12))
    redis.call('XADD', KEYS[4], '*', 'task', ARGV[5], 'tenant', ARGV[6])
    redis.call('XADD', KEYS[5], 'MAXLEN', 200, '*', 'at', ARGV[1], 'from', '', 'to', 'QUEUED',
      'reason', 'submitted', 'shard', '', 'epoch', '0', 'node', '', 'attempt', '0')
    redis.call('PEXPIRE', KEYS[5], ARGV[7])
    redis.call('XADD', KEYS[10], 'MAXLEN', '~', \(SlotKeys.eventsMaxLength), '*', 'tenant', ARGV[6], 'task', ARGV[5],
      'from', '', 'to', 'QUEUED', 'via', '', 'reason', 'submitted', 'node', '', 'attempt', '0', 'at', ARGV[1])
    -- One submission in 16 (ids ending in '0' or 'p', bytes 48 and 112) sweeps up to 100 index
    -- entries past retention: six times the rate they appear, at a sixteenth of the cost.
    if string.byte(ARGV[5], -1) % 16 == 0 then
      local stale = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now - tonumber(ARGV[8]), 'LIMIT', 0, 100)
      if #stale > 0 then redis.call('ZREM', KEYS[6], unpack(stale)) end
    end
    redis.call('ZADD', KEYS[6], now, ARGV[5])
    if idem ~= '' then
      redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), idem)
      redis.call('HSET', KEYS[2], idem, ARGV[5] .. ' ' .. ARGV[3])
      -- Without further keyed submissions nothing would sweep these: they go as a whole.
      redis.call('PEXPIRE', KEYS[1], ARGV[4])
      redis.call('PEXPIRE', KEYS[2], ARGV[4])
    end
    return {'created', ARGV[5]}
    """
}
