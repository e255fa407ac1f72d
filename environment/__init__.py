"""SynapseNet scoring (categories, report plugin, scorer, reward) and its RL interface."""
