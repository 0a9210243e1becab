"""Route authoring: `routes check` reports every error, `routes explain` says what a call matches and
why (CLI and the admin editor's "try a path" box, against unsaved text)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aiohttp.test_utils import TestClient

from tests.test_admin import CSRF, admin_login, create_app_file, etag_of

REPO = Path(__file__).resolve().parent.parent

SHOP = """{
  "version": 1,
  "upstreams": {"legacy": {"url": "http://127.0.0.1:9/old"}},
  "routes": [
    {"path": "/items/{id}", "methods": ["GET"], "location": "/api/v1/items/{id}",
     "roles": ["items:read"]},
    {"path": "/items/special", "methods": ["GET"], "location": "/api/v1/special", "public": true},
    {"path": "/items/{rest*}", "methods": ["GET", "PUT"], "upstream": "legacy",
     "location": "/stock/{rest}", "priority": 2},
    {"path": "/me", "location": "/api/v1/me"}
  ]
}
"""


def plughost(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGHOST_")}
    env["PLUGHOST_ROUTES_DIR"] = str(tmp_path)
    env["PLUGHOST_DATA_DIR"] = str(tmp_path / "var")
    return subprocess.run(
        [sys.executable, "-m", "host.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_reports_every_error_of_a_file_with_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        "{\n"
        '  "version": 1,\n'
        '  "routes": [\n'
        '    {"path": "clients/{id}", "location": "/api/v1/clients/{cid}"},\n'
        '    {"path": "/loans/{id}", "location": "/api/v1/loans/{lid}"},\n'
        '    {"path": "/x", "location": "/y", "bogus": 1}\n'
        "  ]\n"
        "}\n"
    )
    out = plughost(tmp_path, "routes", "check", str(bad))
    assert out.returncode == 1
    lines = out.stderr.splitlines()
    assert [line.split(": error: ")[0] for line in lines] == [
        f"{bad}:4:14",  # the path lacks its leading '/' (schema)
        f"{bad}:4:42",  # ... and hid this: {cid} is not a parameter of the path
        f"{bad}:5:41",
        f"{bad}:6:5",
    ]
    assert "uses {cid}, which the path" in lines[1] and "uses {lid}" in lines[2]
    assert "'bogus' was unexpected" in lines[3]


def test_explain_names_the_route_why_where_it_goes_and_the_roles(tmp_path: Path) -> None:
    (tmp_path / "shop.json").write_text(SHOP)
    out = plughost(tmp_path, "routes", "explain", "--app", "shop", "GET", "/items/7")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "GET /items/7",
        "app: shop, selected by the X-App-Name header; path in the app: /items/7",
        f"matches: route #2 /items/{{rest*}} [GET, PUT, priority 2] at {tmp_path}/shop.json:8:5",
        "  why: highest priority (2) among 2 matching routes",
        "  parameters: rest='7'",
        "  also matches, not chosen: route #0 /items/{id} [GET]: lower priority (0 < 2)",
        "goes to: upstream 'legacy': GET http://127.0.0.1:9/old/stock/7",
        "roles: any authenticated identity; else 401",
    ]


def test_explain_prefix_selection_specificity_and_misses(tmp_path: Path) -> None:
    shop = tmp_path / "shop.json"
    shop.write_text(SHOP.replace('"priority": 2', '"priority": 0'))
    out = plughost(tmp_path, "routes", "explain", "--json", "GET", "/apps/shop/items/special")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["app"] == "shop" and answer["app_path"] == "/items/special"
    assert answer["route"]["index"] == 1 and answer["route"]["public"] is True
    text = answer["explanation"]
    assert "selected by the /apps/shop/ prefix" in text[1]
    assert text[3].startswith("  why: most specific of 3 matching routes")
    assert "roles: public: no identity needed" in text

    out = plughost(tmp_path, "routes", "explain", "--app", "shop", "DELETE", "/me")
    assert out.returncode == 1
    assert (
        out.stdout.splitlines()[-1]
        == "no route for DELETE on /me (405); the path allows: GET, HEAD"
    )
    out = plughost(tmp_path, "routes", "explain", "--app", "nope", "GET", "/me")
    assert out.returncode == 1 and "no route file for app 'nope' (404 unknown-app)" in out.stdout
    out = plughost(tmp_path, "routes", "explain", "GET", "/api/v1/clients")
    assert out.returncode == 0 and "goes to the internal API unchanged" in out.stdout


async def test_admin_try_a_path_explains_the_unsaved_text(client: TestClient) -> None:
    status, _ = await admin_login(client)
    assert status == 200
    await create_app_file(client, "shop", SHOP)
    page = await (await client.get("/admin/routes/shop")).text()
    token = CSRF.search(page).group(1)
    edited = SHOP.replace('"/stock/{rest}"', '"/warehouse/{rest}"')
    resp = await client.post(
        "/admin/routes/shop",
        data={
            "_csrf": token,
            "etag": etag_of(page),
            "content": edited,
            "action": "try",
            "try_method": "PUT",
            "try_path": "/items/3/count",
        },
    )
    text = await resp.text()
    assert resp.status == 200
    assert (
        "goes to: upstream &#39;legacy&#39;: PUT http://127.0.0.1:9/old/warehouse/3/count" in text
    )
    assert "shop.json (edited)" in text
    saved = await (await client.get("/admin/routes/shop")).text()
    assert "/warehouse/" not in saved  # trying saves nothing


async def test_explain_endpoint_refuses_a_path_without_slash(client: TestClient) -> None:
    from tests.conftest import login

    headers = {"Authorization": f"Bearer {await login(client)}"}
    resp = await client.post(
        "/api/v1/admin/routes/explain?app=shop&path=items", data=SHOP, headers=headers
    )
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
