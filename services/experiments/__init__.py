"""The experiments service: experiment tracking (Django + DRF, port 8008, experiments_db)."""
