"""Local infrastructure stack for SynapseNet: real servers on loopback, without Docker."""
