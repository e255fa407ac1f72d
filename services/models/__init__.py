"""Models service: CRUD for model metadata (name, task, owner, tags, input schema)."""
