"""Run the platform's built services locally as separate processes (`make up`, `make down`)."""
