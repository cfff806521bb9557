/// Lua scripts of certificate revocation (docs/security.md, docs/redis-schema.md).
enum RevocationScripts {
    /// Revokes one serial until its certificate's not-after, drops revocations of certificates
    /// that have expired anyway, and bumps the version routers poll.
    /// KEYS: 1 serials zset, 2 version; ARGV: 1 serial, 2 not-after ms, 3 now ms.
    /// Returns the new version.
    static let revoke = """
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
    local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
    if not current or tonumber(current) < tonumber(ARGV[2]) then
      redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
    end
    return redis.call('INCR', KEYS[2])
    """
}
