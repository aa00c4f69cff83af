"""``/`` serves the editor to browsers and a description to API clients; ``/assets`` stays inside web/dist."""

from __future__ import annotations


def test_api_clients_get_json_at_the_root(client):
    answer = client.get("/", headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.json()["docs"] == "/docs"
    assert client.get("/").json()["health"] == "/health"  # the seed's clients send Accept: */*


def test_browsers_get_the_editor_page(client):
    from api.routes.editor import WEB_DIST

    answer = client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    if (WEB_DIST / "index.html").is_file():
        assert '<div id="root">' in answer.text
        asset = next((WEB_DIST / "assets").glob("*.js"))
        served = client.get(f"/assets/{asset.name}")
        assert served.status_code == 200 and served.content == asset.read_bytes()
    else:
        assert "make setup" in answer.text


def test_asset_paths_cannot_leave_the_build(client):
    for path in ("../../pyproject.toml", "..%2F..%2Fpyproject.toml", "%2e%2e/%2e%2e/pyproject.toml", "nope.js"):
        answer = client.get(f"/assets/{path}")
        assert answer.status_code == 404, path
        assert "[build-system]" not in answer.text
