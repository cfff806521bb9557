/// Lua scripts of the tenant lifecycle (docs/security.md, docs/redis-schema.md).
enum TenantScripts {
    /// Creates a tenant with its token digests, or updates its settings, in one step: no reader
    /// ever sees a tenant without tokens.
    /// KEYS: 1 config hash, 2 slot tenants set; ARGV: 1 now ms, 2 tenant, 3 token sha, 4 agent token
    /// sha, 5… settings field/value pairs. Returns 1 when created, 0 when updated.
    static let put = """
    local created = redis.call('HSETNX', KEYS[1], 'created_ms', ARGV[1])
    if created == 1 then
      redis.call('HSET', KEYS[1], 'token_sha256', ARGV[3], 'agent_token_sha256', ARGV[4])
    end
    redis.call('HSET', KEYS[1], unpack(ARGV, 5))
    redis.call('SADD', KEYS[2], ARGV[2])
    return created
    """

    /// Replaces the API token; the old one stays valid until ARGV[3] (0 = not at all).
    /// KEYS: 1 config hash; ARGV: 1 new token sha, 2 now ms, 3 previous token valid until ms.
    /// Returns 1, or 0 when the tenant does not exist.
    static let rotate = """
    if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
    local previous = redis.call('HGET', KEYS[1], 'token_sha256') or ''
    redis.call('HSET', KEYS[1], 'token_sha256', ARGV[1], 'prev_token_sha256', previous,
      'prev_token_expires_ms', ARGV[3], 'token_rotated_ms', ARGV[2])
    return 1
    """

    /// Sets fields of an existing tenant only. KEYS: 1 config hash; ARGV: field/value pairs.
    /// Returns 1, or 0 when the tenant does not exist.
    static let update = """
    if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
    redis.call('HSET', KEYS[1], unpack(ARGV))
    return 1
    """
}
