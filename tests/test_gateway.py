"""Gateway against a live server: app selection, mapping, roles, live reload, admin file API."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Gw, routes_doc, write_json

REPO = Path(__file__).resolve().parent.parent


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@pytest.fixture
async def gw(make_gw: Callable[..., Awaitable[Gw]]) -> Gw:
    return await make_gw()


# selection, mapping, roles ----------------------------------------------------------------------
async def test_roles_401_403_200_through_header_and_prefix(gw: Gw) -> None:
    resp = await gw.client.get("/api/things/7", headers={"X-App-Name": "demo"})
    assert resp.status == 404  # the app has no /api/things route: the app's table is authoritative
    resp = await gw.client.get("/apps/demo/things/7")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert resp.content_type == "application/problem+json"
    resp = await gw.client.get("/apps/demo/things/7", headers=gw.token("other"))
    assert resp.status == 403
    assert (await resp.json())["status"] == 403
    status, body = await gw.get("/apps/demo/things/7", headers=gw.token("things:read"))
    assert (status, body) == (200, {"version": 1, "id": "7", "app": "demo"})
    # header, any case, on any path (not only /api/...)
    headers = {"X-APP-NAME": "DeMo", **gw.token("things:read")}
    status, body = await gw.get("/things/8", headers=headers)
    assert (status, body["id"]) == (200, "8")
    # calls naming no app reach the internal API as before
    status, body = await gw.get("/api/v1/things/9", headers=gw.token("things:read"))
    assert (status, body["app"]) == (200, None)


async def test_unknown_app_no_route_and_method(gw: Gw) -> None:
    resp = await gw.client.get("/apps/nope/things/1")
    assert resp.status == 404
    assert "nope" in (await resp.json())["detail"]
    resp = await gw.client.get("/apps/demo/unmapped")
    assert resp.status == 404
    resp = await gw.client.post("/apps/demo/things/1", headers=gw.token("things:read"))
    assert resp.status == 405
    assert "GET" in resp.headers["Allow"]
    resp = await gw.client.get("/apps/demo/things/1", headers={"X-App-Name": "other"})
    assert resp.status == 400


async def test_direct_api_can_be_turned_off(make_gw: Callable[..., Awaitable[Gw]]) -> None:
    gw = await make_gw(gateway_direct_api=False)
    resp = await gw.client.get("/api/v1/things/1", headers=gw.token("things:read"))
    assert resp.status == 404
    status, _ = await gw.get("/apps/demo/things/1", headers=gw.token("things:read"))
    assert status == 200


async def test_parameters_cannot_climb_out_of_the_location(gw: Gw) -> None:
    # an encoded slash stays inside the one parameter
    status, body = await gw.get("/apps/demo/echo/a%252Fb")
    assert status == 200
    assert body["value"] == "a/b"
    assert body["path"] == "/api/v1/echo/a%2Fb"
    # '..' as a value (encoded, so aiohttp does not resolve it first) is refused
    for bad in ("/apps/demo/echo/%252e%252e", "/apps/demo/files/x/%252E%252E/y"):
        resp = await gw.client.get(bad)
        assert resp.status == 400, bad
    status, body = await gw.get("/apps/demo/files/a/b%20c/d")
    assert status == 200
    assert body["path"] == "/api/v1/files/a/b%20c/d"
    # a raw '..' is resolved by the HTTP layer before any app sees it
    resp = await gw.client.get("/apps/demo/echo/../../api/v1/me")
    assert resp.status in (401, 404)


# live reload ------------------------------------------------------------------------------------
async def test_version_remap_v1_to_v2_by_editing_the_file(gw: Gw) -> None:
    headers = {"X-App-Name": "demo", **gw.token("things:read")}
    _, body = await gw.get("/things/5", headers=headers)
    assert body == {"version": 1, "id": "5", "app": "demo"}
    write_json(gw.routes / "demo.json", routes_doc(version=2))

    async def is_v2() -> bool:
        status, body = await gw.get("/things/5", headers=headers)
        assert status == 200
        return bool(body.get("version") == 2)

    await gw.until(is_v2)
    _, body = await gw.get("/things/5", headers=headers)
    assert body == {"version": 2, "thing": {"id": "5"}}
    apps = await gw.status()
    assert apps["demo"]["state"] == "ok"
    assert apps["demo"]["applied_at"]


async def test_invalid_edit_keeps_last_good_table_and_reports_line_col(gw: Gw) -> None:
    headers = gw.token("things:read")
    before = (await gw.status())["demo"]["hash"]
    text = json.dumps(routes_doc(version=2), indent=2).replace('"public": true', '"public": tru')
    (gw.routes / "demo.json").write_text(text)

    async def reported() -> bool:
        return bool((await gw.status())["demo"]["last_error"])

    await gw.until(reported)
    demo = (await gw.status())["demo"]
    assert demo["state"] == "stale"
    assert demo["hash"] == before
    error = demo["last_error"]
    lines = text.splitlines()
    bad_line = next(i for i, line in enumerate(lines, 1) if '"public": tru' in line)
    assert error["line"] == bad_line
    assert error["column"] == lines[bad_line - 1].index("tru") + 1
    status, body = await gw.get("/apps/demo/things/1", headers=headers)
    assert (status, body["version"]) == (200, 1)  # still the last good (v1) table
    health = await (await gw.client.get("/healthz")).json()
    assert health["routes"]["status"] == "error"
    assert health["routes"]["apps"]["demo"]["last_error"]["line"] == bad_line
    # a schema error is reported at the offending value
    doc = routes_doc()
    doc["routes"][0]["methods"] = ["FETCH"]
    text = json.dumps(doc, indent=2)
    (gw.routes / "demo.json").write_text(text)

    async def schema_error() -> bool:
        err = (await gw.status())["demo"]["last_error"]
        return bool(err and "FETCH" in err["message"])

    await gw.until(schema_error)
    error = (await gw.status())["demo"]["last_error"]
    assert text.splitlines()[error["line"] - 1][error["column"] - 1 :].startswith('"FETCH"')
    # fixing the file applies it and clears the error
    write_json(gw.routes / "demo.json", routes_doc(version=2))

    async def fixed() -> bool:
        return (await gw.status())["demo"]["state"] == "ok"

    await gw.until(fixed)
    status, body = await gw.get("/apps/demo/things/1", headers=headers)
    assert body["version"] == 2
    health = await (await gw.client.get("/healthz")).json()
    assert health["routes"]["status"] == "ok"


async def test_atomic_rename_and_configmap_symlink_swap(gw: Gw) -> None:
    headers = gw.token("things:read")
    write_atomic(gw.routes / "demo.json", json.dumps(routes_doc(version=2)))

    async def version_is(v: int) -> bool:
        return bool((await gw.get("/apps/demo/things/1", headers=headers))[1].get("version") == v)

    await gw.until(lambda: version_is(2))

    # ConfigMap layout: cm.json -> ..data/cm.json, ..data -> ..2026_1; swap ..data atomically
    d = gw.routes
    (d / "..2026_1").mkdir()
    write_json(d / "..2026_1" / "cm.json", routes_doc(version=1))
    os.symlink("..2026_1", d / "..data")
    os.symlink("..data/cm.json", d / "cm.json")

    async def cm_version_is(v: int) -> bool:
        status, body = await gw.get("/apps/cm/things/1", headers=headers)
        return status == 200 and body.get("version") == v

    await gw.until(lambda: cm_version_is(1))
    (d / "..2026_2").mkdir()
    write_json(d / "..2026_2" / "cm.json", routes_doc(version=2))
    os.symlink("..2026_2", d / "..data_tmp")
    os.replace(d / "..data_tmp", d / "..data")
    (d / "..2026_1" / "cm.json").unlink()
    (d / "..2026_1").rmdir()
    await gw.until(lambda: cm_version_is(2))
    # deleting a file removes the app
    (d / "demo.json").unlink()

    async def gone() -> bool:
        return (await gw.client.get("/apps/demo/things/1", headers=headers)).status == 404

    await gw.until(gone)


async def test_no_request_fails_while_the_file_is_rewritten_100_times(gw: Gw) -> None:
    headers = {"X-App-Name": "demo", **gw.token("things:read")}
    stop = asyncio.Event()
    seen: dict[int, int] = {}
    failures: list[tuple[int, str]] = []

    async def load() -> None:
        while not stop.is_set():
            resp = await gw.client.get("/things/3", headers=headers)
            if resp.status != 200:
                failures.append((resp.status, await resp.text()))
            else:
                version = (await resp.json())["version"]
                seen[version] = seen.get(version, 0) + 1

    workers = [asyncio.create_task(load()) for _ in range(8)]
    path = gw.routes / "demo.json"
    for i in range(100):
        text = json.dumps(routes_doc(version=1 + i % 2), indent=2)
        if i % 2:  # half in place (truncate + write: readers may see half a file), half atomic
            path.write_text(text)
        else:
            write_atomic(path, text)
        await asyncio.sleep(0.005)

    async def last_edit_served() -> bool:  # the 100th edit maps to v2
        return (await gw.get("/things/3", headers=headers))[1].get("version") == 2

    await gw.until(last_edit_served)
    stop.set()
    await asyncio.gather(*workers)
    assert failures == []
    assert seen.get(1) and seen.get(2)


async def test_one_bad_file_does_not_stop_other_apps_at_start_up(
    make_gw: Callable[..., Awaitable[Gw]],
) -> None:
    gw = await make_gw(
        {
            "good.json": routes_doc(),
            "bad.json": '{"version": 1, "routes": [}',
            "Bad Name.json": "{}",
        }
    )
    status, body = await gw.get("/apps/good/things/1", headers=gw.token("things:read"))
    assert (status, body["version"]) == (200, 1)
    apps = await gw.status()
    assert apps["good"]["state"] == "ok"
    assert apps["bad"]["state"] == "failed"
    assert apps["bad"]["last_error"] == {
        "message": "JSON syntax: Expecting value",
        "line": 1,
        "column": 27,
    }
    resp = await gw.client.get("/apps/bad/things/1")
    assert resp.status == 404
    # the bad app recovers on its own once fixed; the good one kept serving meanwhile
    write_json(gw.routes / "bad.json", routes_doc(version=2))

    async def fixed() -> bool:
        return (await gw.client.get("/apps/bad/echo/x")).status == 200

    await gw.until(fixed)


async def test_reload_endpoint_and_polling_fallback(make_gw: Callable[..., Awaitable[Gw]]) -> None:
    gw = await make_gw(routes_watch=False, routes_poll_seconds=0)
    headers = gw.token("things:read")
    write_json(gw.routes / "demo.json", routes_doc(version=2))
    await asyncio.sleep(0.3)  # nothing watches: the old table still serves
    assert (await gw.get("/apps/demo/things/1", headers=headers))[1]["version"] == 1
    resp = await gw.client.post("/api/v1/admin/routes/reload", headers=headers)
    assert resp.status == 403
    resp = await gw.client.post("/api/v1/admin/routes/reload", headers=gw.admin)
    assert resp.status == 200
    assert (await resp.json())["reload"]["applied"] == ["demo"]
    assert (await gw.get("/apps/demo/things/1", headers=headers))[1]["version"] == 2

    polled = await make_gw(routes_watch=False, routes_poll_seconds=0.2)
    write_json(polled.routes / "demo.json", routes_doc(version=1))

    async def v1() -> bool:
        return (await polled.get("/apps/demo/things/1", headers=headers))[1]["version"] == 1

    await polled.until(v1)


# admin file API ---------------------------------------------------------------------------------
async def test_admin_file_api_versions_validates_and_writes_atomically(gw: Gw) -> None:
    base = "/api/v1/admin/routes"
    resp = await gw.client.get(f"{base}/demo", headers=gw.admin)
    assert resp.status == 200
    etag = resp.headers["ETag"]
    original = await resp.read()
    new_text = json.dumps(routes_doc(version=2), indent=2).encode()
    # no If-Match on an existing file: 428; stale ETag: 412; nothing written either way
    resp = await gw.client.put(f"{base}/demo", data=new_text, headers=gw.admin)
    assert resp.status == 428
    stale = {"If-Match": '"0000"', **gw.admin}
    resp = await gw.client.put(f"{base}/demo", data=new_text, headers=stale)
    assert resp.status == 412
    assert (gw.routes / "demo.json").read_bytes() == original
    # invalid text: 422 with line/column, nothing written
    bad = b'{\n  "version": 1,\n  "routes": [\n    {"path": "/x", "location": 5}\n  ]\n}'
    resp = await gw.client.put(f"{base}/demo", data=bad, headers={"If-Match": etag, **gw.admin})
    assert resp.status == 422
    problem = await resp.json()
    assert problem["errors"][0]["line"] == 4
    assert problem["errors"][0]["column"] == bad.splitlines()[3].index(b"5") + 1
    assert (gw.routes / "demo.json").read_bytes() == original
    # the right ETag: saved, applied, new ETag
    resp = await gw.client.put(
        f"{base}/demo", data=new_text, headers={"If-Match": etag, **gw.admin}
    )
    assert resp.status == 200
    new_etag = resp.headers["ETag"]
    assert new_etag != etag
    assert (gw.routes / "demo.json").read_bytes() == new_text
    _, body = await gw.get("/apps/demo/things/1", headers=gw.token("things:read"))
    assert body["version"] == 2
    # a second writer still holding the old ETag loses: no lost edit
    resp = await gw.client.put(
        f"{base}/demo", data=original, headers={"If-Match": etag, **gw.admin}
    )
    assert resp.status == 412
    # create a new app (201), then delete it with its ETag
    resp = await gw.client.put(
        f"{base}/fresh", data=new_text, headers={"If-None-Match": "*", **gw.admin}
    )
    assert resp.status == 201
    fresh_etag = resp.headers["ETag"]
    assert (await gw.client.get("/apps/fresh/echo/x")).status == 200
    resp = await gw.client.delete(f"{base}/fresh", headers=gw.admin)
    assert resp.status == 428
    resp = await gw.client.delete(f"{base}/fresh", headers={"If-Match": fresh_etag, **gw.admin})
    assert resp.status == 204
    assert not (gw.routes / "fresh.json").exists()
    assert (await gw.client.get("/apps/fresh/echo/x")).status == 404
    files = [p.name for p in gw.routes.iterdir() if p.name != ".plughost-routes.lock"]
    assert files == ["demo.json"]  # no temp files left (the writers' lock file stays)
    # non-admins cannot use it
    resp = await gw.client.get(f"{base}/demo", headers=gw.token("things:read"))
    assert resp.status == 403


async def test_validate_endpoint_reports_errors_and_shadowed_routes(gw: Gw) -> None:
    doc = routes_doc(extra=[{"path": "/{any*}", "location": "/api/v1/echo/x", "priority": 5}])
    resp = await gw.client.post(
        "/api/v1/admin/routes/validate", data=json.dumps(doc, indent=2), headers=gw.admin
    )
    body = await resp.json()
    assert body["valid"] is True
    assert {w["pointer"] for w in body["warnings"]} == {
        "/routes/0/path",
        "/routes/1/path",
        "/routes/2/path",
    }
    doc = routes_doc(extra=[{"path": "/things/{other}", "location": "/api/v1/echo/{other}"}])
    resp = await gw.client.post(
        "/api/v1/admin/routes/validate", data=json.dumps(doc), headers=gw.admin
    )
    body = await resp.json()
    assert body["valid"] is False
    assert "duplicates" in body["errors"][0]["message"]
    # every schema rule holds for every route, whatever its position in the file
    doc = routes_doc()
    doc["routes"][0]["priority"] = 1.5
    doc["routes"][1]["roles"] = [""]
    doc["routes"][2]["extra"] = True
    resp = await gw.client.post(
        "/api/v1/admin/routes/validate", data=json.dumps(doc, indent=2), headers=gw.admin
    )
    errors = (await resp.json())["errors"]
    assert [e["pointer"] for e in errors] == [
        "/routes/0/priority",
        "/routes/1/roles/0",
        "/routes/2",
    ]
    assert "extra" in errors[2]["message"]


async def test_priority_breaks_ties(make_gw: Callable[..., Awaitable[Gw]]) -> None:
    doc = {
        "version": 1,
        "routes": [
            {"path": "/p/{a}/z", "location": "/api/v1/echo/first", "public": True},
            {"path": "/p/y/{b}", "location": "/api/v1/echo/second", "public": True},
        ],
    }
    gw = await make_gw({"prio.json": doc})
    assert (await gw.get("/apps/prio/p/y/z"))[1]["value"] == "second"  # static first
    doc["routes"][0]["priority"] = 1
    write_json(gw.routes / "prio.json", doc)

    async def first() -> bool:
        return (await gw.get("/apps/prio/p/y/z"))[1]["value"] == "first"

    await gw.until(first)


# CLI --------------------------------------------------------------------------------------------
def test_routes_check_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    write_json(good, routes_doc())
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{\n  "version": 1,\n  "routes": [\n    {"path": "nope", "location": "/x"}\n  ]\n}'
    )
    env = {**os.environ, "PLUGHOST_ROUTES_DIR": str(tmp_path), "PLUGHOST_DATA_DIR": str(tmp_path)}
    cmd = [sys.executable, "-m", "host.cli", "routes", "check"]
    ok = subprocess.run([*cmd, str(good)], capture_output=True, text=True, env=env, cwd=REPO)
    assert ok.returncode == 0, ok.stderr
    assert "ok (3 routes)" in ok.stdout
    failed = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    assert failed.returncode == 1
    assert f"{bad}:4:14: error: /routes/0/path" in failed.stderr
    repo = subprocess.run(
        [*cmd, *map(str, sorted((REPO / "routes.d").glob("*.json")))],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert repo.returncode == 0, repo.stderr


def test_sighup_reloads_a_served_process(tmp_path: Path, gwdemo_plugins: Path) -> None:
    """`plughost serve` with no watcher and no polling: SIGHUP alone applies the edit."""
    import signal
    import socket
    import time
    import urllib.request

    routes = tmp_path / "routes.d"
    routes.mkdir()
    write_json(routes / "demo.json", routes_doc())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "PLUGHOST_DATA_DIR": str(tmp_path / "var"),
        "PLUGHOST_ROUTES_DIR": str(routes),
        "PLUGHOST_PLUGINS_DIR": str(gwdemo_plugins),
        "PLUGHOST_ROUTES_WATCH": "false",
        "PLUGHOST_ROUTES_POLL_SECONDS": "0",
        "PLUGHOST_SECRET_KEY": "k" * 40,
        "PLUGHOST_ADMIN_PASSWORD": "pw-for-sighup-test",
        "PLUGHOST_LOG_FORMAT": "text",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "host.cli", "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def value() -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/apps/demo/echo/x") as r:
                return str(json.load(r)["path"])
        except OSError:
            return None

    try:
        deadline = time.monotonic() + 30
        while value() is None:
            assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
            time.sleep(0.1)
        doc = routes_doc()
        doc["routes"][1]["location"] = "/api/v1/echo/{value}-reloaded"
        write_json(routes / "demo.json", doc)
        time.sleep(0.3)
        assert value() == "/api/v1/echo/x"
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while value() != "/api/v1/echo/x-reloaded":
            assert time.monotonic() < deadline, "SIGHUP did not reload"
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("depth", [900, 100_000])
async def test_deeply_nested_file_fails_alone(
    make_gw: Callable[..., Awaitable[Gw]], depth: int
) -> None:
    """A hostile file in routes.d (issue 12 #5) is that file's error; the others still reload."""
    gw = await make_gw(routes_watch=False, routes_poll_seconds=0)
    headers = gw.token("things:read")
    (gw.routes / "deep.json").write_text(
        '{"version": 1, "routes": ' + "[" * depth + "]" * depth + "}"
    )
    write_json(gw.routes / "demo.json", routes_doc(version=2))
    resp = await gw.client.post("/api/v1/admin/routes/reload", headers=gw.admin)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["reload"]["applied"] == ["demo"]
    assert (await gw.get("/apps/demo/things/1", headers=headers))[1]["version"] == 2
    deep = (await gw.status())["deep"]
    assert "nested deeper" in deep["last_error"]["message"]
    health = await (await gw.client.get("/healthz")).json()
    assert health["routes"]["status"] == "error"
    assert "nested deeper" in health["routes"]["apps"]["deep"]["last_error"]["message"]
    check = subprocess.run(
        [sys.executable, "-m", "host.cli", "routes", "check", str(gw.routes / "deep.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 1, check.stderr
    assert "nested deeper" in check.stdout + check.stderr


# secrets and addresses a route file may use (issue 12 #4) ----------------------------------------
def upstream_doc(url: str, client: dict[str, Any]) -> dict[str, Any]:
    base = {"token_url": "http://127.0.0.1:9/token", "client_id": "c"}
    return {
        "version": 1,
        "upstreams": {"up": {"url": url, "client": {**base, **client}}},
        "routes": [{"path": "/x", "upstream": "up", "location": "/x", "public": True}],
    }


async def _validate(gw: Gw, doc: dict[str, Any]) -> list[str]:
    resp = await gw.client.post(
        "/api/v1/admin/routes/validate", data=json.dumps(doc), headers=gw.admin
    )
    assert resp.status == 200
    return [e["message"] for e in (await resp.json())["errors"]]


async def test_route_files_cannot_read_any_secret_or_call_metadata(
    make_gw: Callable[..., Awaitable[Gw]], tmp_path: Path
) -> None:
    gw = await make_gw()
    ok = "http://127.0.0.1:9/api"
    assert await _validate(gw, upstream_doc(ok, {"secret_env": "PLUGHOST_UPSTREAM_SECRET_X"})) == []
    errors = await _validate(gw, upstream_doc(ok, {"secret_env": "PLUGHOST_SECRET_KEY"}))
    assert len(errors) == 1 and "PLUGHOST_UPSTREAM_SECRET_ENV_PREFIX" in errors[0]
    assert "/client/secret_env" in errors[0]
    errors = await _validate(gw, upstream_doc(ok, {"secret_file": "/etc/shadow"}))
    assert len(errors) == 1 and "PLUGHOST_UPSTREAM_SECRETS_DIR" in errors[0]
    for url in (
        "http://169.254.169.254/latest",
        "http://[fe80::1]/",
        "http://metadata.google.internal/",
    ):
        errors = await _validate(
            gw, upstream_doc(url, {"secret_env": "PLUGHOST_UPSTREAM_SECRET_X"})
        )
        assert len(errors) == 1 and "PLUGHOST_UPSTREAM_ALLOW_LINK_LOCAL" in errors[0], url
    doc = upstream_doc(ok, {"secret_env": "PLUGHOST_UPSTREAM_SECRET_X"})
    doc["upstreams"]["up"]["client"]["token_url"] = "http://169.254.169.254/token"
    errors = await _validate(gw, doc)
    assert len(errors) == 1 and "/client/token_url" in errors[0]

    # a file on disk naming such a secret is not applied; the rest of routes.d is
    write_json(
        gw.routes / "thief.json", upstream_doc(ok, {"secret_env": "PLUGHOST_ADMIN_PASSWORD"})
    )
    resp = await gw.client.post("/api/v1/admin/routes/reload", headers=gw.admin)
    assert (await resp.json())["reload"]["failed"] == ["thief"]
    # and neither is a PUT through the admin API
    resp = await gw.client.put(
        "/api/v1/admin/routes/thief2",
        data=json.dumps(upstream_doc(ok, {"secret_file": "/etc/shadow"})),
        headers={"If-None-Match": "*", **gw.admin},
    )
    assert resp.status == 422
    assert "PLUGHOST_UPSTREAM_SECRETS_DIR" in json.dumps(await resp.json())

    # with a secrets folder: files inside it only, symlinks followed
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "partner").write_text("s3cret\n")
    (secrets / "escape").symlink_to("/etc/hostname")
    allowed = await make_gw(upstream_secrets_dir=secrets, upstream_allow_link_local=True)
    assert (
        await _validate(allowed, upstream_doc(ok, {"secret_file": str(secrets / "partner")})) == []
    )
    assert await _validate(allowed, upstream_doc(ok, {"secret_file": "partner"})) == []
    for outside in ("/etc/shadow", "../secrets-other/x", "escape"):
        errors = await _validate(allowed, upstream_doc(ok, {"secret_file": outside}))
        assert len(errors) == 1 and "PLUGHOST_UPSTREAM_SECRETS_DIR" in errors[0], outside
    # the metadata address is allowed when the setting says so
    meta = upstream_doc("http://169.254.169.254/", {"secret_env": "PLUGHOST_UPSTREAM_SECRET_X"})
    assert await _validate(allowed, meta) == []

    # `plughost routes check` applies the same policy
    (tmp_path / "offline").mkdir()
    write_json(tmp_path / "offline" / "bad.json", meta)
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "host.cli",
            "routes",
            "check",
            str(tmp_path / "offline" / "bad.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PLUGHOST_DATA_DIR": str(tmp_path / "var")},
    )
    assert check.returncode == 1
    assert "PLUGHOST_UPSTREAM_ALLOW_LINK_LOCAL" in check.stderr


def test_blocked_addresses() -> None:
    from host.gateway.policy import blocked_address

    for address in (
        "169.254.169.254",
        "169.254.0.1",
        "fe80::1",
        "::ffff:169.254.169.254",
        "fd00:ec2::254",
    ):
        assert blocked_address(address), address
    for address in ("127.0.0.1", "10.0.0.1", "8.8.8.8", "::1", "example.org"):
        assert not blocked_address(address), address
