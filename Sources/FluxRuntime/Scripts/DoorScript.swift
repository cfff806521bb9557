import FluxAPI

/// The door every submission passes before anything is written: the tenant's rate limit and its
/// live count of outstanding tasks against `maxQueued`, checked and charged atomically in the
/// tenant's slot, so the limits hold across every router and shard (docs/security.md).
///
/// The rate limit is GCRA (a token bucket kept as one "theoretical arrival time", `rate_tat`
/// in the tenant's config hash): each submission moves it `1000 / rate` ms ahead; a submission is
/// refused while it would lie more than `burst` submissions ahead of now.
///
/// `DoorScript.check` is Lua shared by the submit script (cost 1) and `DoorScript.batch` (cost n,
/// the whole batch or nothing). It leaves `door` set to nil when admitted, or to the refusal.
/// Expects: `config` (tenant config hash key), `live` (slot live hash key), `tenant`, `now`, `cost`.
enum DoorScript {
    /// Settings a tenant record written before they existed lacks: the API's defaults.
    static let defaults = TenantSettings()

    static let check = """
    local door = nil
    do
      local cfg = redis.call('HMGET', config, 'rateLimitPerSec', 'burst', 'rate_tat', 'maxQueued', 'suspended')
      local outstanding = tonumber(redis.call('HGET', live, tenant) or '0')
      local limit = tonumber(cfg[4] or '\(defaults.maxQueued)')
      local rate = tonumber(cfg[1] or '\(defaults.rateLimitPerSec)')
      local burst = tonumber(cfg[2] or '\(defaults.burst)')
      if cfg[5] == '1' then
        door = {'suspended', ''}
      elseif cost > limit then
        door = {'too_large', 'maxQueued ' .. tostring(limit)}
      elseif cost > burst then
        door = {'too_large', 'burst ' .. tostring(burst)}
      elseif outstanding + cost > limit then
        door = {'quota_exceeded', tostring(outstanding) .. '/' .. tostring(limit)}
      else
        if rate > 0 then
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
      end
      if not door then redis.call('HINCRBY', live, tenant, cost) end
    end
    """

    /// A whole batch at the door. KEYS: 1 tenant config, 2 slot live hash, 3… the task keys of a
    /// named batch's items (those that exist were written by an earlier try: not charged again);
    /// ARGV: 1 now ms, 2 tenant, 3 cost (the item count). Returns {"ok", ""} | {"rate_limited", retry ms} | {"quota_exceeded", "n/max"} |
    /// {"too_large", "<limit name> <value>"} (a batch no wait could ever let through)
    static let batch = """
    local config, live, tenant = KEYS[1], KEYS[2], ARGV[2]
    local now, cost = tonumber(ARGV[1]), tonumber(ARGV[3])
    for k = 3, #KEYS do
      if redis.call('EXISTS', KEYS[k]) == 1 then cost = cost - 1 end
    end
    if cost <= 0 then return {'ok', ''} end
    """ + "\n" + check + "\n" + """
    if door then return door end
    return {'ok', ''}
    """
}
