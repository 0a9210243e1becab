"""Admin UI over HTTP, without a browser: login, role and CSRF refusals, escaping, readable errors."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import ADMIN_PASSWORD, finished, wait_for

CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


async def admin_login(
    client: TestClient, username: str = "admin", password: str = ADMIN_PASSWORD
) -> tuple[int, str]:
    """Log in through the form; returns (status, the CSRF token of the page landed on)."""
    form = await client.get("/admin/login")
    token = CSRF.search(await form.text()).group(1)
    resp = await client.post(
        "/admin/login",
        data={"username": username, "password": password, "_csrf": token, "next": "/admin/plugins"},
    )
    text = await resp.text()
    found = CSRF.search(text)
    return resp.status, found.group(1) if found else ""


@pytest.fixture
async def admin_client(client: TestClient) -> TestClient:
    status, _ = await admin_login(client)
    assert status == 200
    return client


async def test_pages_need_a_session(client: TestClient) -> None:
    resp = await client.get("/admin/plugins", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"].startswith("/admin/login?next=")
    resp = await client.get("/admin", allow_redirects=False)
    assert resp.status == 302


async def test_login_sets_a_safe_cookie_and_shows_plugins(client: TestClient) -> None:
    form = await client.get("/admin/login")
    token = CSRF.search(await form.text()).group(1)
    resp = await client.post(
        "/admin/login",
        data={
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "_csrf": token,
            "next": "/admin/plugins",
        },
        allow_redirects=False,
    )
    assert resp.status == 303
    cookie = resp.headers.getall("Set-Cookie")
    session = next(c for c in cookie if c.startswith("plughost_admin="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Path=/admin" in session
    assert "Secure" not in session  # plain http here
    page = await client.get("/admin/plugins")
    assert page.status == 200
    text = await page.text()
    assert "clients" in text and "loaded" in text
    # migrations per app: the admin UI's own table is applied, nothing pending
    assert 'id="migrations"' in text and "host_admin" in text and "_init.py" in text
    assert "pending</span>" not in text


async def test_secure_cookie_behind_trusted_https_proxy(
    make_client: Callable[..., Awaitable[TestClient]],
) -> None:
    client = await make_client(trust_forwarded=True)
    form = await client.get("/admin/login")
    token = CSRF.search(await form.text()).group(1)
    resp = await client.post(
        "/admin/login",
        data={"username": "admin", "password": ADMIN_PASSWORD, "_csrf": token},
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
    )
    session = next(c for c in resp.headers.getall("Set-Cookie") if c.startswith("plughost_admin="))
    assert "Secure" in session


async def test_wrong_password_then_throttled(client: TestClient) -> None:
    for _ in range(5):
        status, _ = await admin_login(client, password="wrong")
        assert status == 401
    status, _ = await admin_login(client, password="wrong")
    assert status == 429
    # even the right password waits until the window has passed
    status, _ = await admin_login(client)
    assert status == 429


async def test_non_admin_user_is_refused(client: TestClient) -> None:
    from host.auth.users import add_user

    await add_user("clerk", "clerk-password", ["clients:read"])
    form = await client.get("/admin/login")
    token = CSRF.search(await form.text()).group(1)
    resp = await client.post(
        "/admin/login", data={"username": "clerk", "password": "clerk-password", "_csrf": token}
    )
    assert resp.status == 403
    assert "does not have the admin role" in await resp.text()
    assert "Traceback" not in await resp.text()


async def test_form_without_csrf_token_is_refused(admin_client: TestClient) -> None:
    resp = await admin_client.post("/admin/logout", data={})
    assert resp.status == 403
    text = await resp.text()
    assert "CSRF" in text and "<html" in text
    resp = await admin_client.post("/admin/logout", data={"_csrf": "forged"})
    assert resp.status == 403
    # the session still works: the refused form changed nothing
    assert (await admin_client.get("/admin/plugins")).status == 200


async def test_reload_button_without_a_serve_master_says_a_restart_is_needed(
    admin_client: TestClient,
) -> None:
    page = await admin_client.get("/admin/plugins")
    text = html.unescape(await page.text())
    assert "runs as a single process" in text and "restart" in text
    assert re.search(r"<button[^>]*disabled[^>]*>Roll onto the plugins found now", text)
    token = CSRF.search(text).group(1)
    # posted anyway (an old page, a script): refused with the reason, not a silent no-op
    resp = await admin_client.post("/admin/plugins/reload", data={"_csrf": token})
    assert resp.status == 409
    assert "Restart it to activate plugin changes" in html.unescape(await resp.text())
    health = await (await admin_client.get("/healthz")).json()
    assert health["activation"]["status"] == "single-process"
    assert health["status"] == "ok"


async def test_login_form_without_token_is_refused(client: TestClient) -> None:
    resp = await client.post("/admin/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert resp.status == 403


async def test_logout_ends_the_session(admin_client: TestClient) -> None:
    page = await admin_client.get("/admin/plugins")
    token = CSRF.search(await page.text()).group(1)
    resp = await admin_client.post("/admin/logout", data={"_csrf": token}, allow_redirects=False)
    assert resp.status == 303
    assert (await admin_client.get("/admin/plugins", allow_redirects=False)).status == 303


async def test_open_redirect_is_not_followed(client: TestClient) -> None:
    form = await client.get("/admin/login")
    token = CSRF.search(await form.text()).group(1)
    resp = await client.post(
        "/admin/login",
        data={
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "_csrf": token,
            "next": "//evil.example/",
        },
        allow_redirects=False,
    )
    assert resp.headers["Location"] == "/admin/"


async def test_unknown_page_is_a_readable_page(admin_client: TestClient) -> None:
    resp = await admin_client.get("/admin/nope")
    assert resp.status == 404
    assert resp.content_type == "text/html"


async def test_wrong_method_is_a_readable_405(admin_client: TestClient) -> None:
    resp = await admin_client.options("/admin/routes")  # (an unsafe method meets CSRF first)
    assert resp.status == 405
    assert resp.content_type == "text/html"
    assert set(resp.headers["Allow"].split(",")) >= {"GET", "POST"}


async def test_events_page_escapes_payloads(admin_client: TestClient) -> None:
    from host.bus import BUS

    bus = admin_client.app[BUS]
    await bus.publish("clients.created", {"firstname": "<script>alert(1)</script>"})
    text = await (await admin_client.get("/admin/events")).text()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


MOBILE_V1 = """{
  "version": 1,
  "description": "mobile app",
  "routes": [
    {"path": "/clients/{id}", "methods": ["GET"], "location": "/api/v1/clients/{id}", "roles": ["admin"]}
  ]
}
"""


async def page_token(client: TestClient, path: str) -> tuple[str, str]:
    resp = await client.get(path)
    assert resp.status == 200, await resp.text()
    text = await resp.text()
    return text, CSRF.search(text).group(1)


def etag_of(text: str) -> str:
    return html.unescape(re.search(r'name="etag" value="([^"]*)"', text).group(1))


async def create_app_file(client: TestClient, name: str, content: str) -> None:
    _, token = await page_token(client, "/admin/routes")
    resp = await client.post(
        "/admin/routes", data={"_csrf": token, "action": "create", "app": name, "content": content}
    )
    assert resp.status == 200, await resp.text()
    assert "Done: created" in await resp.text()


async def test_create_edit_conflict_history_rollback(admin_client: TestClient) -> None:
    client = admin_client
    await create_app_file(client, "mobile", MOBILE_V1)
    listing = await (await client.get("/admin/routes")).text()
    assert "mobile" in listing and "applied" in listing

    # two people open the editor
    first, token = await page_token(client, "/admin/routes/mobile")
    second, _ = await page_token(client, "/admin/routes/mobile")
    v2 = MOBILE_V1.replace("/api/v1/", "/api/v2/")
    # check shows the diff without saving
    resp = await client.post(
        "/admin/routes/mobile",
        data={"_csrf": token, "etag": etag_of(first), "content": v2, "action": "check"},
    )
    text = await resp.text()
    assert resp.status == 200 and "The file is valid" in text and "/api/v2/clients/{id}" in text
    # the first saves
    resp = await client.post(
        "/admin/routes/mobile",
        data={"_csrf": token, "etag": etag_of(first), "content": v2, "action": "save"},
    )
    assert "Done: saved" in await resp.text()
    # the second saves from the old version: conflict, their text kept, nothing overwritten
    mine = MOBILE_V1.replace('"mobile app"', '"second editor"')
    resp = await client.post(
        "/admin/routes/mobile",
        data={"_csrf": token, "etag": etag_of(second), "content": mine, "action": "check"},
    )
    assert "Someone saved this file after you opened it" in await resp.text()  # warned early
    resp = await client.post(
        "/admin/routes/mobile",
        data={"_csrf": token, "etag": etag_of(second), "content": mine, "action": "save"},
    )
    text = await resp.text()
    assert resp.status == 409 and "Conflict" in text and "second editor" in text
    current, _ = await page_token(client, "/admin/routes/mobile")
    assert "/api/v2/clients/{id}" in current and "second editor" not in current

    # history: initial (v1 via create), v2 save; roll back to the first version
    history = await (await client.get("/admin/routes/mobile/history")).text()
    versions = re.findall(r'action="/admin/routes/mobile/rollback/(\d+)"', history)
    assert versions, history
    resp = await client.post(f"/admin/routes/mobile/rollback/{versions[-1]}", data={"_csrf": token})
    assert "rolled back" in await resp.text()
    current, _ = await page_token(client, "/admin/routes/mobile")
    assert "/api/v1/clients/{id}" in current
    history = await (await client.get("/admin/routes/mobile/history")).text()
    assert "rollback" in history and "admin" in history


async def test_invalid_edit_is_refused_with_line_and_column(admin_client: TestClient) -> None:
    client = admin_client
    await create_app_file(client, "mobile", MOBILE_V1)
    text, token = await page_token(client, "/admin/routes/mobile")
    broken = MOBILE_V1.replace('"methods": ["GET"],', '"methods": ["GET"]')
    resp = await client.post(
        "/admin/routes/mobile",
        data={"_csrf": token, "etag": etag_of(text), "content": broken, "action": "save"},
    )
    body = await resp.text()
    assert resp.status == 422
    assert "Not saved" in body and "line 5, column" in body
    current, _ = await page_token(client, "/admin/routes/mobile")
    assert '"methods": ["GET"],' in html.unescape(current)  # nothing written


async def test_route_fields_are_shown_escaped(admin_client: TestClient) -> None:
    client = admin_client
    evil = MOBILE_V1.replace('"mobile app"', '"<script>alert(1)</script>"')
    await create_app_file(client, "evil", evil)
    for path in ("/admin/routes/evil", "/admin/routes/evil/history"):
        body = await (await client.get(path)).text()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


async def test_delete_app(admin_client: TestClient) -> None:
    client = admin_client
    await create_app_file(client, "gone", MOBILE_V1)
    text, token = await page_token(client, "/admin/routes/gone")
    resp = await client.post(
        "/admin/routes/gone/delete", data={"_csrf": token, "etag": etag_of(text)}
    )
    assert "Done: deleted" in await resp.text()
    assert (await client.get("/admin/routes/gone")).status == 404


async def test_jobs_pages_list_detail_and_controls(
    admin_client: TestClient, admin_headers: dict[str, str]
) -> None:
    client = admin_client
    items = [{"requestId": 1, "method": "GET", "relativeUrl": "clients/424242"}]
    resp = await client.post(
        "/api/v1/batches?async=true",
        json=items,
        headers={**admin_headers, "Prefer": "respond-async"},
    )
    assert resp.status == 202, await resp.text()
    job_id = (await resp.json())["id"]
    listing = await (await client.get("/admin/jobs?kind=batch&submitter=admin")).text()
    assert f'data-job="{job_id}"' in listing, listing
    detail = await client.get(f"/admin/jobs/{job_id}")
    assert detail.status == 200
    text = await detail.text()
    token = CSRF.search(text).group(1)
    resp = await client.post(f"/admin/jobs/{job_id}/explode", data={"_csrf": token})
    assert resp.status == 404
    resp = await client.post(f"/admin/jobs/{job_id}/cancel", data={})
    assert resp.status == 403
    assert (await client.get("/admin/jobs/999999")).status == 404
    assert "workflow" in (await (await client.get("/admin/workflows")).text()).lower()


async def test_jobs_pages_show_and_choose_the_tenant(
    admin_client: TestClient, admin_headers: dict[str, str]
) -> None:
    """Jobs live in their tenant: the list shows it, `?tenant=` looks at another one (a platform
    admin may), and the detail page and its controls act in that tenant."""
    client = admin_client
    items = [{"requestId": 1, "method": "GET", "relativeUrl": "clients/424242"}]
    resp = await client.post(
        "/api/v1/batches",
        json=items,
        headers={**admin_headers, "Prefer": "respond-async", "X-Tenant": "tenant-b"},
    )
    assert resp.status == 202, await resp.text()
    job_id = (await resp.json())["id"]
    await wait_for(client, {**admin_headers, "X-Tenant": "tenant-b"}, job_id, finished)
    assert f'data-job="{job_id}"' not in await (await client.get("/admin/jobs")).text()
    listing = await (await client.get("/admin/jobs?tenant=tenant-b")).text()
    row = listing.split(f'data-job="{job_id}"', 1)[1].split("</tr>", 1)[0]
    assert '<td data-field="tenant">tenant-b</td>' in row
    assert f'href="/admin/jobs/{job_id}?tenant=tenant-b"' in row
    assert (await client.get(f"/admin/jobs/{job_id}")).status == 404  # not in tenant default
    detail = await client.get(f"/admin/jobs/{job_id}?tenant=tenant-b")
    text = await detail.text()
    assert detail.status == 200 and '<dd id="job-tenant">tenant-b</dd>' in text
    token = CSRF.search(text).group(1)
    resp = await client.post(
        f"/admin/jobs/{job_id}/retry?tenant=tenant-b", data={"_csrf": token}, allow_redirects=False
    )
    assert resp.status == 303 and resp.headers["Location"].endswith("tenant=tenant-b")
    resp = await client.get("/admin/jobs?tenant=no%20tenant!")
    assert resp.status == 400


def test_session_cookie_signature_and_expiry() -> None:
    from admin.auth import read_session, sign_session

    key = b"k" * 32
    cookie = sign_session(key, {"u": "admin", "sid": "s1", "exp": 2_000})
    assert read_session(key, cookie, now=1_000) == {"u": "admin", "sid": "s1", "exp": 2_000}
    assert read_session(key, cookie, now=3_000) is None  # expired
    assert read_session(b"x" * 32, cookie, now=1_000) is None  # another key
    _, _, mac = cookie.partition(".")
    forged = sign_session(key, {"u": "root", "sid": "s1", "exp": 2_000}).split(".")[0]
    assert read_session(key, f"{forged}.{mac}", now=1_000) is None  # body swapped
    assert read_session(key, "garbage", now=1_000) is None


async def test_no_app_name_is_reserved_and_reload_works(admin_client: TestClient) -> None:
    client = admin_client
    for name in ("reload", "new"):
        await create_app_file(client, name, MOBILE_V1)
        text, token = await page_token(client, f"/admin/routes/{name}")
        resp = await client.post(
            f"/admin/routes/{name}",
            data={
                "_csrf": token,
                "etag": etag_of(text),
                "content": MOBILE_V1 + "\n",
                "action": "save",
            },
        )
        assert "Done: saved" in await resp.text()
    resp = await client.post("/admin/routes", data={"_csrf": token, "action": "reload"})
    assert resp.status == 200 and "Done: reloaded" in await resp.text()


def test_throughput_series_buckets_finish_times() -> None:
    from datetime import UTC, datetime, timedelta

    from admin.jobs import chart_points, throughput_series

    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = [start + timedelta(seconds=s) for s in (0.5, 0.6, 1.5, 9.9)]
    rates, width = throughput_series(times, start, start + timedelta(seconds=10), buckets=10)
    assert width == 1.0 and rates[0] == 2.0 and rates[1] == 1.0 and rates[9] == 1.0
    assert sum(rates) == 4.0
    assert throughput_series([], None, None) == ([], 0.0)
    assert len(chart_points(rates).split()) == 10


async def test_a_broken_file_on_disk_shows_its_error_and_place(admin_client: TestClient) -> None:
    from host.config import SETTINGS

    client = admin_client
    await create_app_file(client, "mobile", MOBILE_V1)
    routes_dir = client.app[SETTINGS].routes_dir
    (routes_dir / "mobile.json").write_text(MOBILE_V1.replace('"version": 1,', '"version": 1'))
    _, token = await page_token(client, "/admin/routes")
    resp = await client.post("/admin/routes", data={"_csrf": token, "action": "reload"})
    text = await resp.text()
    assert 'class="badge error"' in text
    assert "line 3, column" in text and "the last good version keeps serving" in text


async def test_job_progress_stream_sends_the_job(
    admin_client: TestClient, admin_headers: dict[str, str]
) -> None:
    client = admin_client
    items = [{"requestId": 1, "method": "GET", "relativeUrl": "clients/424242"}]
    resp = await client.post(
        "/api/v1/batches?async=true",
        json=items,
        headers={**admin_headers, "Prefer": "respond-async"},
    )
    job_id = (await resp.json())["id"]
    resp = await client.get(f"/admin/jobs/{job_id}/stream")
    assert resp.headers["Content-Type"] == "text/event-stream"
    seen = b""
    async for line in resp.content:
        seen += line
        if b'"final": true' in seen:
            break
    assert b"event: job" in seen and f'"id": {job_id}'.encode() in seen
    resp.close()


@pytest.mark.pg
async def test_route_history_on_postgresql(
    make_client: Callable[..., Awaitable[TestClient]], pg_url: str
) -> None:
    client = await make_client(db_url=pg_url)
    status, _ = await admin_login(client)
    assert status == 200
    await create_app_file(client, "mobile", MOBILE_V1)
    text, token = await page_token(client, "/admin/routes/mobile")
    v2 = MOBILE_V1.replace("/api/v1/", "/api/v2/")
    resp = await client.post(
        "/admin/routes/mobile",
        data={"_csrf": token, "etag": etag_of(text), "content": v2, "action": "save"},
    )
    assert "Done: saved" in await resp.text()
    history = await (await client.get("/admin/routes/mobile/history")).text()
    assert len(re.findall(r'<tr data-version="\d+"', history)) == 2
    plugins = await (await client.get("/admin/plugins")).text()
    assert "host_admin" in plugins and "pending</span>" not in plugins
