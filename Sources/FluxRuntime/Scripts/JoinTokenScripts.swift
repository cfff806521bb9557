/// Lua scripts of agent enrollment (docs/security.md, docs/redis-schema.md).
enum JoinTokenScripts {
    /// Spends one use of a join token, atomically: two agents racing for the last use cannot
    /// both win. The node rule is `NodePattern.matches` (`*`, an exact name, or a prefix + `*`).
    /// KEYS: 1 the token's hash (`t:<tenant>:join:<id>`); ARGV: 1 the presented token's SHA-256,
    /// 2 node name.
    /// Returns {"ok", uses left} | {"invalid", ""} (unknown, expired, another tenant's, or a wrong
    /// secret for the id) | {"used_up", ""} | {"node_not_allowed", pattern}.
    static let redeem = """
    local stored = redis.call('HMGET', KEYS[1], 'sha256', 'uses', 'pattern')
    if not stored[1] or stored[1] ~= ARGV[1] then return {'invalid', ''} end
    local pattern = stored[3]
    local node = ARGV[2]
    if pattern ~= '*' then
      if string.sub(pattern, -1) == '*' then
        local prefix = string.sub(pattern, 1, -2)
        if string.sub(node, 1, #prefix) ~= prefix then return {'node_not_allowed', pattern} end
      elseif pattern ~= node then
        return {'node_not_allowed', pattern}
      end
    end
    local uses = tonumber(stored[2])
    if uses <= 0 then return {'used_up', ''} end
    redis.call('HSET', KEYS[1], 'uses', uses - 1)
    return {'ok', tostring(uses - 1)}
    """
}
