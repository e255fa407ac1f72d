"""Create what the platform needs on its servers: topics, buckets, index mappings, KV defaults."""
