"""Storage service: objects, resumable uploads, dataset versions and signed downloads."""
