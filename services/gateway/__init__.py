"""API gateway: one entry point that forwards /api/<service>/<path> to the platform services."""
