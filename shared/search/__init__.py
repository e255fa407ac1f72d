"""Search: the index port (base), its adapters (memory, elasticsearch), platform indices."""
