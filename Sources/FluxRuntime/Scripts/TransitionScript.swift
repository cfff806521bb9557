/// Applies a batch of task state transitions of one slot, decided by the scheduling core,
/// atomically and fenced: one script call per slot per flush.
///
/// Refuses the whole batch (error `STALE_EPOCH`) unless the slot lease still holds exactly
/// `<shard>:<epoch>`: a paused or partitioned former owner can never write. Each transition is
/// refused (`conflict`) when its task is not in one of the expected states, so a transition is
/// never applied twice. A transition moves the task between the `ready`/`delayed`/`inflight`
/// sets (the task hash remembers which one it is in, field `queue`, so only that one is touched),
/// updates the record, appends the timeline entry; admission outcomes XACK their ingest entries
/// in the same script, so an ack is never ahead of the durable outcome.
///
/// Redis-command economy (docs/performance.md): one fence check per batch, one HSET per
/// transition, timeline TTL (set at submission) refreshed only when the task may wait long (delayed) or ends, the stored
/// command read back only for dispatches, one XACK for the whole batch.
///
/// The slot's live count per tenant (`SlotKeys.live`, what `maxQueued` is checked against at the
/// door) goes down when a task becomes terminal, so a finished task frees its tenant's quota;
/// its ingest backlog (`<tenant>:ingest`) goes down with each admission outcome.
/// Its bytes in the storage ledger (`SlotKeys.stored`) move then from the tenant's unfinished
/// bytes to the day its record expires, with what the final transition adds (the output tail).
///
/// A transition may carry steps it passes through (`via`): two changes of one task decided in
/// the same turn (RUNNING then SUCCEEDED, ADMITTED then DISPATCHED) are one entry, with one
/// check, one HSET and one set move, and a timeline entry for every step (issue 16).
///
/// Counters are decremented without reading them first; the rare result below zero (a count
/// that drifted, docs/security.md) is put back to zero.
///
/// A task that ends is compacted (issue 16): its whole timeline is packed into the record's
/// `timeline` field (`PackedTimeline`, one line per entry, charged to the storage ledger with
/// the record), and the stream itself expires a minute later — long enough for live watchers
/// (`GET …/events`) to read the last entries from it, after which the record alone remains
/// for the retention.
///
/// Each applied transition also appends one entry to the slot's event stream (`SlotKeys.events`,
/// the steps it passed through in `via`), which tenants watch (`GET /v1/tenants/{t}/events`).
///
/// KEYS: 1 lease, 2 ready, 3 delayed, 4 inflight, 5 ingest, 6 live, 7 storage ledger, 8 slot
///       events, then per transition i (from 1): 8+2i-1 task hash, 8+2i timeline
/// ARGV: 1 lease value, 2 shard, 3 epoch, 4 now ms, 5 record ttl ms, 6 timeline ttl ms, 7 count,
///       8 events max length, 9 ms a finished task's timeline stream outlives its packing,
///       then per transition: id, expected states "A,B" or "", new state, reason, node, attempt,
///       queue ("ready"|"delayed"|"inflight"|"none"|"keep": leave the sets as they are), score,
///       ingest entry id or "", terminal "1"/"0", want spec "1"/"0", n extra fields, n pairs,
///       k steps passed through before the new state, k × (state, reason, node, attempt)
/// Returns per transition {"ok", oldState, command, env, created_ms} | {"conflict", state} |
///       {"missing", ""}
enum TransitionScript {
    static let source = """
    if redis.call('GET', KEYS[1]) ~= ARGV[1] then
      return redis.error_reply('STALE_EPOCH lease is not held by ' .. ARGV[1])
    end
    local sets = {ready = KEYS[2], delayed = KEYS[3], inflight = KEYS[4]}
    local finals = {SUCCEEDED = true, FAILED = true, REJECTED = true, SHED = true, CANCELLED = true,
      DEADLINE_EXCEEDED = true, VERIFIED = true}
    local now, shard, epoch = ARGV[4], ARGV[2], ARGV[3]
    local results, acks = {}, {}
    -- Takes n off a counter; one that went below zero had drifted: it is zero again.
    local function decrement(hash, field, n)
      if redis.call('HINCRBY', hash, field, -n) < 0 then redis.call('HSET', hash, field, 0) end
    end
    -- "id|at|from|to|reason|shard|epoch|node|attempt" per entry, one per line (PackedTimeline).
    local function pack(timeline)
      local lines = {}
      for _, entry in ipairs(redis.call('XRANGE', timeline, '-', '+')) do
        local f, raw = {}, entry[2]
        for k = 1, #raw, 2 do f[raw[k]] = raw[k + 1] end
        lines[#lines + 1] = table.concat({entry[1], f['at'] or '', f['from'] or '', f['to'] or '', f['reason'] or '',
          f['shard'] or '', f['epoch'] or '', f['node'] or '', f['attempt'] or ''}, '|')
      end
      return table.concat(lines, '\\n')
    end
    local a = 10
    for i = 1, tonumber(ARGV[7]) do
      local task, timeline = KEYS[7 + 2 * i], KEYS[8 + 2 * i]
      local id, expected, to, reason, node, attempt = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
      local queue, score, ingest, terminal, wantSpec = ARGV[a + 6], ARGV[a + 7], ARGV[a + 8], ARGV[a + 9], ARGV[a + 10]
      local extras = tonumber(ARGV[a + 11])
      local first = a + 12
      local steps = tonumber(ARGV[first + 2 * extras])
      local via = first + 2 * extras + 1
      a = via + 4 * steps
      if ingest ~= '' then acks[#acks + 1] = ingest end
      local current = redis.call('HMGET', task, 'state', 'queue', 'tenant', 'bytes')
      local state = current[1]
      if not state then
        results[i] = {'missing', ''}
      elseif expected ~= '' and string.find(',' .. expected .. ',', ',' .. state .. ',', 1, true) == nil then
        results[i] = {'conflict', state}
      else
        local fields = {'state', to, 'reason', reason, 'updated_ms', now}
        if queue ~= 'keep' then
          local member = current[2]
          if member == false then
            redis.call('ZREM', KEYS[2], id)
            redis.call('ZREM', KEYS[3], id)
            redis.call('ZREM', KEYS[4], id)
          elseif member ~= '' then
            redis.call('ZREM', sets[member], id)
          end
          if queue == 'none' then
            fields[#fields + 1] = 'queue'; fields[#fields + 1] = ''
          else
            redis.call('ZADD', sets[queue], score, id)
            fields[#fields + 1] = 'queue'; fields[#fields + 1] = queue
          end
        end
        for j = first, first + 2 * extras - 1 do fields[#fields + 1] = ARGV[j] end
        redis.call('HSET', task, unpack(fields))
        -- An admission outcome: the tenant has one entry fewer waiting in the ingest stream.
        if ingest ~= '' and current[3] then decrement(KEYS[6], current[3] .. ':ingest', 1) end
        local from, passed = state, {}
        for v = via, via + 4 * steps - 1, 4 do
          redis.call('XADD', timeline, 'MAXLEN', 200, '*', 'at', now, 'from', from, 'to', ARGV[v],
            'reason', ARGV[v + 1], 'shard', shard, 'epoch', epoch, 'node', ARGV[v + 2], 'attempt', ARGV[v + 3])
          from = ARGV[v]
          passed[#passed + 1] = ARGV[v]
        end
        redis.call('XADD', KEYS[8], 'MAXLEN', '~', ARGV[8], '*', 'tenant', current[3] or '', 'task', id,
          'from', state, 'to', to, 'via', table.concat(passed, ','), 'reason', reason, 'node', node,
          'attempt', attempt, 'at', now)
        redis.call('XADD', timeline, 'MAXLEN', 200, '*', 'at', now, 'from', from, 'to', to,
          'reason', reason, 'shard', shard, 'epoch', epoch, 'node', node, 'attempt', attempt)
        local packed = ''
        if terminal == '1' then
          packed = pack(timeline)
          redis.call('HSET', task, 'timeline', packed)
        end
        if finals[to] and not finals[state] and current[3] then
          local tenant = current[3]
          decrement(KEYS[6], tenant, 1)
          local bytes = tonumber(current[4] or '0')
          if bytes > 0 then
            decrement(KEYS[7], tenant, bytes)
            for j = first + 1, first + 2 * extras - 1, 2 do bytes = bytes + #ARGV[j] end
            bytes = bytes + #packed
            local day = math.floor((tonumber(now) + tonumber(ARGV[5])) / 86400000)
            if redis.call('HINCRBY', KEYS[7], tenant .. '@' .. day, bytes) == bytes then
              -- The first record of a new day: the day before the earliest the door still
              -- counts is over (its records are gone).
              redis.call('HDEL', KEYS[7], tenant .. '@' .. (day - math.ceil(tonumber(ARGV[5]) / 86400000) - 2))
            end
          end
        end
        if terminal == '1' then
          redis.call('PEXPIRE', timeline, ARGV[9])
        elseif queue == 'delayed' then
          redis.call('PEXPIRE', timeline, ARGV[6])
        end
        if terminal == '1' then redis.call('PEXPIRE', task, ARGV[5]) end
        if wantSpec == '1' then
          local spec = redis.call('HMGET', task, 'command', 'env', 'created_ms')
          results[i] = {'ok', state, spec[1] or '[]', spec[2] or '{}', spec[3] or ''}
        else
          results[i] = {'ok', state, '', '', ''}
        end
      end
    end
    if #acks > 0 then redis.call('XACK', KEYS[5], 'shards', unpack(acks)) end
    return results
    """
}
