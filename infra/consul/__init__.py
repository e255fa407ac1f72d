"""A Consul stand-in: the agent, catalog, health, KV and status endpoints the platform uses."""
