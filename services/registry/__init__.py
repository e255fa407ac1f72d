"""Model registry service: versions, stages and lineage of registered models (Django + DRF)."""
