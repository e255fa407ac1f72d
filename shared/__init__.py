"""Code shared by every SynapseNet service: clients, events, ML primitives and utilities."""
