"""The feature store service: feature views and their stores (Django + DRF, 8006, models_db)."""
