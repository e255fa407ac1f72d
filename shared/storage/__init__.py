"""Object storage: the port (base), its adapters (memory, minio) and the platform's buckets."""
