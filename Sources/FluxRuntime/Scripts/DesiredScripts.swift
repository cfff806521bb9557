/// The Lua scripts of desired states (docs/reconciliation.md, docs/redis-schema.md).
enum DesiredScripts {
    /// Creates or updates a desired state. A change of `check` or `apply` starts a new generation;
    /// anything else (limits, pause) keeps it. A tenant's count of desired states is capped.
    ///
    /// KEYS: 1 item hash, 2 tenant's names set, 3 slot index set
    /// ARGV: 1 now ms, 2 name, 3 index member, 4 spec JSON, 5 check JSON, 6 apply JSON, 7 new uid,
    ///       8 max items per tenant
    /// Returns {"created"|"updated"|"full", generation}
    static let put = """
    local existing = redis.call('HMGET', KEYS[1], 'check', 'apply', 'generation')
    if not existing[3] then
      if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[8]) then return {'full', '0'} end
      redis.call('HSET', KEYS[1], 'spec', ARGV[4], 'check', ARGV[5], 'apply', ARGV[6], 'generation', '1',
        'uid', ARGV[7], 'created_ms', ARGV[1], 'updated_ms', ARGV[1], 'check_requested_ms', '0')
      redis.call('SADD', KEYS[2], ARGV[2])
      redis.call('SADD', KEYS[3], ARGV[3])
      return {'created', '1'}
    end
    local generation = tonumber(existing[3])
    if existing[1] ~= ARGV[5] or existing[2] ~= ARGV[6] then generation = generation + 1 end
    redis.call('HSET', KEYS[1], 'spec', ARGV[4], 'check', ARGV[5], 'apply', ARGV[6],
      'generation', tostring(generation), 'updated_ms', ARGV[1])
    return {'updated', tostring(generation)}
    """

    /// Persists one reconciliation step of one desired state, fenced like every task transition:
    /// nothing is written unless the caller still holds the slot's lease with this value, and
    /// nothing for a desired state deleted meanwhile.
    ///
    /// KEYS: 1 slot lease, 2 item hash, 3 nodes hash, 4… one timeline stream per transition
    /// ARGV: 1 lease value, 2 timeline ttl ms, 3 record count n, then n (node, json) pairs, then
    ///       per transition: field count, then its field/value pairs
    /// Returns 1 | "fenced" | "gone"
    static let step = """
    if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'fenced' end
    if redis.call('EXISTS', KEYS[2]) == 0 then return 'gone' end
    local n = tonumber(ARGV[3])
    local at = 4
    if n > 0 then
      redis.call('HSET', KEYS[3], unpack(ARGV, at, at + 2 * n - 1))
      at = at + 2 * n
    end
    for k = 4, #KEYS do
      local count = tonumber(ARGV[at])
      redis.call('XADD', KEYS[k], 'MAXLEN', '~', 200, '*', unpack(ARGV, at + 1, at + count))
      redis.call('PEXPIRE', KEYS[k], ARGV[2])
      at = at + count + 1
    end
    return 1
    """

    /// Removes a desired state and everything kept for it.
    /// KEYS: 1 item hash, 2 nodes hash, 3 tenant's names set, 4 slot index set
    /// ARGV: 1 name, 2 index member, 3 timeline key prefix
    /// Returns 1 when it existed, 0 otherwise.
    static let delete = """
    if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
    local nodes = redis.call('HKEYS', KEYS[2])
    for _, node in ipairs(nodes) do redis.call('DEL', ARGV[3] .. node) end
    redis.call('DEL', KEYS[1], KEYS[2])
    redis.call('SREM', KEYS[3], ARGV[1])
    redis.call('SREM', KEYS[4], ARGV[2])
    return 1
    """

    /// `:reconcile`: records the request time on an existing item. KEYS: 1 item hash; ARGV: 1 now
    /// ms. Returns 1, or 0 when the item does not exist.
    static let requestCheck = """
    if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
    redis.call('HSET', KEYS[1], 'check_requested_ms', ARGV[1])
    return 1
    """
}
