"""Cache: the port (base) and its adapters (memory, redis), plus the Redis client factory."""
