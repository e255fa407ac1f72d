"""SynapseNet scoring: test categories, the pytest report plugin, the scorer and the reward."""
