"""SynapseNet maintainer tool: build, probe, record, score, solve and verify (never shipped)."""
