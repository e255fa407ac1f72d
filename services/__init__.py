"""The platform's services, one package each."""
