"""``/``: the web editor for browsers, a short description for API clients; ``/assets/*``: the editor's files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

router = APIRouter(tags=["editor"])

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flowza</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:12vh auto;padding:0 1rem;color:#1d2330}
code{background:#f2f4f7;padding:2px 6px;border-radius:4px}</style></head>
<body><h1>Flowza</h1>
<p>The API is running, but the web editor has not been built yet.</p>
<p>Build it with <code>make setup</code> (it needs Node.js 20 or newer and npm), then reload this page.</p>
<p>Meanwhile: the API's documentation is at <a href="/docs">/docs</a>.</p></body></html>
"""


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


@router.get("/", summary="The web editor (browsers) or what this server is (API clients)",
            responses={200: {"content": {"text/html": {}}}})
def root(request: Request):
    if not _wants_html(request):
        return JSONResponse({"name": "Flowza", "docs": "/docs", "health": "/health",
                             "catalog": "/api/tasks/available", "editor": "/"})
    index = WEB_DIST / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT)
    # The page names its hashed assets: it must be re-read after each build.
    return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.get("/assets/{path:path}", summary="A file of the built web editor", include_in_schema=False)
def asset(path: str) -> FileResponse:
    root = (WEB_DIST / "assets").resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise HTTPException(status_code=404, detail=f"asset {path!r} not found")
    # Asset names carry a content hash, so they can be cached for good.
    return FileResponse(target, headers={"Cache-Control": "public, max-age=31536000, immutable"})
