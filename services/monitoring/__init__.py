"""Monitoring service: metrics from the bus, histograms, alert rules, health and traces."""
