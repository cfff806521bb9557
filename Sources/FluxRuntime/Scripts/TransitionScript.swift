/// Applies one task state transition decided by the scheduling core, atomically and fenced.
///
/// Refuses (error `STALE_EPOCH`) unless the slot lease still holds exactly `<shard>:<epoch>`:
/// a paused or partitioned former owner can never write. Refuses (`conflict`) when the task is
/// not in one of the expected states, so a transition is never applied twice. It moves the task
/// between the `ready`/`delayed`/`inflight` sets, updates the record, appends the timeline entry
/// and, for admissions, XACKs the ingest entry in the same step, so the ack is never ahead of
/// the durable outcome.
///
/// KEYS: 1 lease, 2 task, 3 timeline, 4 ready, 5 delayed, 6 inflight, 7 ingest
/// ARGV: 1 lease value, 2 shard, 3 epoch, 4 now ms, 5 task id, 6 expected states "A,B" or "",
///       7 new state, 8 reason, 9 node, 10 attempt,
///       11 queue ("ready"|"delayed"|"inflight"|"none"|"keep": leave the sets as they are),
///       12 queue score, 13 ingest entry id or "", 14 record ttl ms or "0", 15 timeline ttl ms,
///       16… extra task hash field/value pairs
/// Returns {"ok", oldState, command, env, created_ms} | {"conflict", state} | {"missing", ""}
enum TransitionScript {
    static let source = """
    if redis.call('GET', KEYS[1]) ~= ARGV[1] then
      return redis.error_reply('STALE_EPOCH lease is not held by ' .. ARGV[1])
    end
    local state = redis.call('HGET', KEYS[2], 'state')
    if not state then
      if ARGV[13] ~= '' then redis.call('XACK', KEYS[7], 'shards', ARGV[13]) end
      return {'missing', ''}
    end
    if ARGV[6] ~= '' and string.find(',' .. ARGV[6] .. ',', ',' .. state .. ',', 1, true) == nil then
      if ARGV[13] ~= '' then redis.call('XACK', KEYS[7], 'shards', ARGV[13]) end
      return {'conflict', state}
    end
    local id = ARGV[5]
    if ARGV[11] ~= 'keep' then
      redis.call('ZREM', KEYS[4], id)
      redis.call('ZREM', KEYS[5], id)
      redis.call('ZREM', KEYS[6], id)
    end
    if ARGV[11] == 'ready' then redis.call('ZADD', KEYS[4], ARGV[12], id)
    elseif ARGV[11] == 'delayed' then redis.call('ZADD', KEYS[5], ARGV[12], id)
    elseif ARGV[11] == 'inflight' then redis.call('ZADD', KEYS[6], ARGV[12], id) end
    redis.call('HSET', KEYS[2], 'state', ARGV[7], 'reason', ARGV[8], 'updated_ms', ARGV[4])
    if #ARGV >= 16 then redis.call('HSET', KEYS[2], unpack(ARGV, 16)) end
    redis.call('XADD', KEYS[3], 'MAXLEN', 200, '*', 'at', ARGV[4], 'from', state, 'to', ARGV[7],
      'reason', ARGV[8], 'shard', ARGV[2], 'epoch', ARGV[3], 'node', ARGV[9], 'attempt', ARGV[10])
    redis.call('PEXPIRE', KEYS[3], ARGV[15])
    if ARGV[13] ~= '' then redis.call('XACK', KEYS[7], 'shards', ARGV[13]) end
    if ARGV[14] ~= '0' then redis.call('PEXPIRE', KEYS[2], ARGV[14]) end
    local spec = redis.call('HMGET', KEYS[2], 'command', 'env', 'created_ms')
    return {'ok', state, spec[1] or '[]', spec[2] or '{}', spec[3] or ''}
    """
}
