"""Fallback URLconf; each service serves its own URLconf (see wsgi.py)."""

urlpatterns: list = []
