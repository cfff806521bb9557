import FluxAPI

/// The door every submission passes before anything is written: the tenant's rate limit, its
/// live count of outstanding tasks against `maxQueued`, and the bytes its task records hold
/// against `maxStoredBytes`, checked and charged atomically in the tenant's slot, so the limits
/// hold across every router and shard (docs/security.md).
///
/// The rate limit is GCRA (a token bucket kept as one "theoretical arrival time", `rate_tat`
/// in the tenant's config hash): each submission moves it `1000 / rate` ms ahead; a submission is
/// refused while it would lie more than `burst` submissions ahead of now.
///
/// Storage is a ledger in the slot's `stored` hash: field `<tenant>` holds the bytes of its
/// unfinished tasks, fields `<tenant>@<day>` the bytes of finished ones whose records expire on
/// that day (Unix days; the transition script moves a task's bytes there when it ends). The door
/// sums the unfinished bytes and the days from today to `horizon` days ahead; a day past is no
/// longer counted, since its records are gone.
///
/// The ingest backlog: field `<tenant>:ingest` of the live hash counts the tenant's submissions
/// written to the slot's ingest stream and not yet admitted (the transition script takes one off
/// with each admission outcome). Beyond `ingestBacklogLimit` the door refuses
/// (`ingest_backlog`): the tenants of a slot share one stream, and this bounds how many of one
/// tenant's entries can stand in front of another's.
///
/// `DoorScript.check` is Lua shared by the submit script (cost 1) and `DoorScript.batch` (cost n,
/// the whole batch or nothing). It leaves `door` set to nil when admitted, or to the refusal.
/// Expects: `config` (tenant config hash key), `live` (slot live hash key), `stored` (slot
/// ledger hash key), `tenant`, `now`, `cost`, `bytes` (the records' size), `horizon` (days).
enum DoorScript {
    /// Settings a tenant record written before they existed lacks: the API's defaults.
    static let defaults = TenantSettings()
    /// A tenant's submissions waiting in its slot's ingest stream before the door refuses more.
    static let ingestBacklogLimit = 1_024

    static let check = """
    local door = nil
    do
      local cfg = redis.call('HMGET', config, 'rateLimitPerSec', 'burst', 'rate_tat', 'maxQueued', 'suspended', 'maxStoredBytes')
      local outstanding = tonumber(redis.call('HGET', live, tenant) or '0')
      local limit = tonumber(cfg[4] or '\(defaults.maxQueued)')
      local rate = tonumber(cfg[1] or '\(defaults.rateLimitPerSec)')
      local burst = tonumber(cfg[2] or '\(defaults.burst)')
      local storeLimit = tonumber(cfg[6] or '\(defaults.maxStoredBytes)')
      if cfg[5] == '1' then
        door = {'suspended', ''}
      elseif cost > limit then
        door = {'too_large', 'maxQueued ' .. tostring(limit)}
      elseif cost > burst then
        door = {'too_large', 'burst ' .. tostring(burst)}
      elseif bytes > storeLimit then
        door = {'too_large', 'maxStoredBytes ' .. tostring(storeLimit)}
      elseif outstanding + cost > limit then
        door = {'quota_exceeded', tostring(outstanding) .. '/' .. tostring(limit)}
      elseif tonumber(redis.call('HGET', live, tenant .. ':ingest') or '0') >= \(ingestBacklogLimit) then
        door = {'ingest_backlog', '100'}
      end
      if not door then
        local today = math.floor(now / 86400000)
        local fields = {tenant}
        for day = today, today + horizon do fields[#fields + 1] = tenant .. '@' .. day end
        local held = redis.call('HMGET', stored, unpack(fields))
        local total, freesAt = 0, nil
        for k = 1, #held do
          local n = tonumber(held[k] or '0')
          total = total + n
          if k > 1 and n > 0 and not freesAt then freesAt = (today + k - 1) * 86400000 end
        end
        if total + bytes > storeLimit then
          door = {'storage_exceeded', tostring(math.ceil((freesAt or (now + 60000)) - now)) .. ' ' .. tostring(total) .. '/' .. tostring(storeLimit)}
        end
      end
      if not door and rate > 0 then
        local interval = 1000 / rate
        local tat = math.max(tonumber(cfg[3] or '0'), now)
        local after = tat + cost * interval
        local allowAt = after - burst * interval
        if allowAt > now then
          door = {'rate_limited', tostring(math.ceil(allowAt - now))}
        else
          redis.call('HSET', config, 'rate_tat', string.format('%.3f', after))
        end
      end
      if not door then
        redis.call('HINCRBY', live, tenant, cost)
        redis.call('HINCRBY', live, tenant .. ':ingest', cost)
        if bytes > 0 then redis.call('HINCRBY', stored, tenant, bytes) end
      end
    end
    """

    /// A whole batch at the door. KEYS: 1 tenant config, 2 slot live hash, 3 slot storage ledger,
    /// 4… the task keys of a named batch's items (those that exist were written by an earlier
    /// try: not charged again); ARGV: 1 now ms, 2 tenant, 3 cost (the item count), 4 the bytes of
    /// all items, 5 storage horizon (days). Returns {"ok", ""} | {"rate_limited", retry ms} |
    /// {"quota_exceeded", "n/max"} | {"storage_exceeded", "<retry ms> <bytes>/<max>"} |
    /// {"ingest_backlog", retry ms} |
    /// {"too_large", "<limit name> <value>"} (a batch no wait could ever let through)
    static let batch = """
    local config, live, stored, tenant = KEYS[1], KEYS[2], KEYS[3], ARGV[2]
    local now, cost, horizon = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[5])
    local items = cost
    for k = 4, #KEYS do
      if redis.call('EXISTS', KEYS[k]) == 1 then cost = cost - 1 end
    end
    if cost <= 0 then return {'ok', ''} end
    local bytes = math.floor(tonumber(ARGV[4]) * cost / items)
    """ + "\n" + check + "\n" + """
    if door then return door end
    return {'ok', ''}
    """
}
