"""Inference service: deploys registry model versions and serves predictions."""
