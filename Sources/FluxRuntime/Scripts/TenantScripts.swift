/// Lua scripts of the tenant lifecycle (docs/security.md, docs/redis-schema.md).
enum TenantScripts {
    /// Creates a tenant with its token digests, or updates its settings, in one step: no reader
    /// ever sees a tenant without tokens.
    /// KEYS: 1 config hash, 2 slot tenants set; ARGV: 1 now ms, 2 tenant, 3 token sha, 4 agent token
    /// sha, 5… settings field/value pairs. Returns 1 when created, 0 when updated, -1 while the
    /// tenant is being deleted (its name is free again once the deletion finished).
    static let put = """
    if redis.call('HGET', KEYS[1], 'deleting') == '1' then return -1 end
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
    /// Returns 1, or 0 when the tenant does not exist (or is being deleted).
    static let rotate = """
    if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'deleting') == '1' then return 0 end
    local previous = redis.call('HGET', KEYS[1], 'token_sha256') or ''
    redis.call('HSET', KEYS[1], 'token_sha256', ARGV[1], 'prev_token_sha256', previous,
      'prev_token_expires_ms', ARGV[3], 'token_rotated_ms', ARGV[2])
    return 1
    """

    /// Sets fields of an existing tenant only. KEYS: 1 config hash; ARGV: field/value pairs.
    /// Returns 1, or 0 when the tenant does not exist (or is being deleted).
    static let update = """
    if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'deleting') == '1' then return 0 end
    redis.call('HSET', KEYS[1], unpack(ARGV))
    return 1
    """

    /// Starts deleting a tenant that has no unfinished task: from here on it has no valid token
    /// (API or agent), the door refuses its submissions (suspended), its desired states are no
    /// longer reconciled, and the slot's owner is told (`ff:deleting`) to close its agents'
    /// sessions and remove its keys (`TenantSweeper`).
    /// KEYS: 1 config hash, 2 slot live hash, 3 slot desired index, 4 tenant desired names
    /// (all of the tenant's slot, so it runs on a Redis Cluster too); ARGV: 1 tenant, 2 now ms.
    /// Returns {"ok", ""} | {"missing", ""} | {"busy", unfinished count}. The caller then adds
    /// the tenant to `ff:deleting` (another hash slot).
    static let beginDeletion = """
    if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing', ''} end
    local unfinished = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
    if unfinished > 0 and redis.call('HGET', KEYS[1], 'deleting') ~= '1' then
      return {'busy', tostring(unfinished)}
    end
    redis.call('HSET', KEYS[1], 'deleting', '1', 'deleting_since_ms', ARGV[2], 'suspended', '1',
      'token_sha256', '', 'prev_token_sha256', '', 'prev_token_expires_ms', '0', 'agent_token_sha256', '')
    for _, name in ipairs(redis.call('SMEMBERS', KEYS[4])) do
      redis.call('SREM', KEYS[3], ARGV[1] .. '/' .. name)
    end
    return {'ok', ''}
    """
}
