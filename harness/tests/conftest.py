"""Let the root pytest configuration load when the Django plugin is disabled (-p no:django)."""


def pytest_addoption(parser) -> None:
    """Declare the Django ini keys of pyproject.toml so --strict-config accepts them."""
    parser.addini("DJANGO_SETTINGS_MODULE", "Django settings module (used by the main suite)")
    parser.addini("django_find_project", "Django project discovery (used by the main suite)")
