"""ML primitives: safe model artifacts and numpy training building blocks (import submodules)."""
