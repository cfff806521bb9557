import CHiredis
// Placeholder: the Redis client lands with issue 2.
public enum FluxRedisPlaceholder {}
