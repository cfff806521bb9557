/// Slot lease scripts (docs/architecture.md). The lease value is `<shardId>:<epoch>`.
enum LeaseScripts {
    /// Takes the lease when it is free or held by an earlier incarnation of the same shard id,
    /// always with a fresh epoch, so writes of any earlier holder are fenced off.
    /// KEYS: 1 lease, 2 epoch. ARGV: 1 shard id, 2 ttl ms.
    /// Returns {"acquired", epoch} | {"held", currentValue}.
    static let acquire = """
    local current = redis.call('GET', KEYS[1])
    if current then
      local holder = string.match(current, '^(.*):%d+$')
      if holder ~= ARGV[1] then return {'held', current} end
    end
    local epoch = redis.call('INCR', KEYS[2])
    redis.call('SET', KEYS[1], ARGV[1] .. ':' .. epoch, 'PX', ARGV[2])
    return {'acquired', tostring(epoch)}
    """

    /// Extends the lease only if it still holds exactly our value. KEYS: 1 lease.
    /// ARGV: 1 lease value, 2 ttl ms. Returns 1 when renewed, 0 when lost.
    static let renew = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then
      redis.call('PEXPIRE', KEYS[1], ARGV[2])
      return 1
    end
    return 0
    """

    /// Deletes the lease only if it still holds exactly our value. KEYS: 1 lease. ARGV: 1 value.
    static let release = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
    return 0
    """
}
