"""Shared utilities: time helpers and distributed locks."""
