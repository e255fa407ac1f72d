"""Serve the API docs pages offline: Swagger UI and Redoc from the pinned sidecar package.

FastAPI's default /docs and /redoc load their JavaScript from a CDN, so offline they are
blank. Every service (FastAPI and Django alike) serves the swagger-ui and redoc files that
`drf-spectacular-sidecar` (pinned in requirements.txt) ships, under the same URL prefix.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

# The URL prefix Django's {% static "drf_spectacular_sidecar/..." %} also produces.
DOCS_ASSETS_URL = "/static/drf_spectacular_sidecar"
SWAGGER_JS = f"{DOCS_ASSETS_URL}/swagger-ui-dist/swagger-ui-bundle.js"
SWAGGER_CSS = f"{DOCS_ASSETS_URL}/swagger-ui-dist/swagger-ui.css"
FAVICON = f"{DOCS_ASSETS_URL}/swagger-ui-dist/favicon-32x32.png"
REDOC_JS = f"{DOCS_ASSETS_URL}/redoc/bundles/redoc.standalone.js"


def docs_assets_dir() -> Path:
    """Return the folder of the sidecar's swagger-ui-dist and redoc files."""
    return Path(str(files("drf_spectacular_sidecar") / "static" / "drf_spectacular_sidecar"))


def serve_offline_docs(app: FastAPI) -> None:
    """Replace the app's CDN-backed /docs and /redoc with pages using the local assets."""
    default_pages = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    app.router.routes[:] = [
        route for route in app.router.routes if getattr(route, "path", None) not in default_pages
    ]
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=docs_assets_dir()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(app.docs_url or "/docs", include_in_schema=False)
    def swagger_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=SWAGGER_JS,
            swagger_css_url=SWAGGER_CSS,
            swagger_favicon_url=FAVICON,
        )

    @app.get(app.redoc_url or "/redoc", include_in_schema=False)
    def redoc_page() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=REDOC_JS,
            redoc_favicon_url=FAVICON,
            with_google_fonts=False,
        )
