"""Event bus: the port (base), its adapters (memory, kafka) and the platform's event schema."""
