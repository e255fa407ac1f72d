"""The API docs pages load only assets the service itself serves: they work offline."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient

from shared.web import create_service_app
from tests.utils.registry import REGISTRY_DB

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(["']?([^)"']+)""")
CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


def assert_docs_pages_are_self_contained(client: httpx.Client | TestClient, pages: list[str]):
    """Check each page names only local assets and each asset is served with its type."""
    for page in pages:
        html = client.get(page)
        assert html.status_code == 200, page
        assets = [a or b for a, b in ASSET.findall(html.text)]
        assert assets, page
        assert [a for a in assets if not a.startswith("/") or a.startswith("//")] == [], page
        for asset in assets:
            response = client.get(asset)
            assert response.status_code == 200, asset
            expected = CONTENT_TYPES[asset[asset.rindex(".") :]]
            assert expected in response.headers["content-type"], asset


@pytest.mark.registry
@REGISTRY_DB
def test_registry_docs_pages_use_only_local_assets(registry_client):
    assert_docs_pages_are_self_contained(registry_client, ["/api/docs", "/api/redoc"])


@pytest.mark.gateway
def test_fastapi_docs_pages_use_only_local_assets():
    with TestClient(create_service_app("probe")) as client:
        assert_docs_pages_are_self_contained(client, ["/docs", "/redoc"])
