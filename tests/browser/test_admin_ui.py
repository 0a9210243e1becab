"""The admin UI in a real browser (Debian's chromium through Playwright) against `plughost serve`.

Each test says what an operator does and what must be seen; screenshots of every page go to
docs/screenshots/ (shown in docs/admin.md and the README).
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.browser.conftest import ADMIN_PASSWORD, CLERK_PASSWORD, Server, login, shot

pytestmark = pytest.mark.browser
V1, V2 = "/api/v1/clients/{id}", "/api/v2/clients/{id}"


def make_client(server: Server, firstname: str = "Ada") -> int:
    status, body = server.api(
        "POST",
        "/api/v1/clients",
        {
            "officeId": 1,
            "firstname": firstname,
            "lastname": "Lovelace",
            "active": False,
            "locale": "en",
            "dateFormat": "dd MMMM yyyy",
            "submittedOnDate": "01 January 2026",
        },
    )
    assert status == 201, body
    return int(body["clientId"])


def through_gateway(server: Server, client_id: int) -> dict[str, Any]:
    status, body = server.api("GET", f"/apps/mobile/clients/{client_id}")
    assert status == 200, body
    return body


def wait_for(predicate: Any, what: str, timeout: float = 10.0) -> Any:
    """Poll until `predicate()` is truthy (the watcher applies within a second; allow slack)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def editor_text(page: Any) -> str:
    return page.input_value("textarea[name=content]")


def test_login_required_and_plugins_page(new_page: Any) -> None:
    page = new_page()
    page.goto("/admin/plugins")
    assert "/admin/login" in page.url
    shot(page, "login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert "Unknown user name or wrong password" in page.text_content("main")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/plugins")
    table = page.text_content("table.grid")
    assert "clients" in table and "savings" in table and "loaded" in table
    skipped = page.text_content("tr.state-skipped")
    assert "needs_missing" in skipped and "no_such_plugin" in skipped  # the reason is shown
    assert "POST /api/v1/clients" in page.content()
    shot(page, "plugins")


def test_events_arrive_live(admin_page: Any, server: Server) -> None:
    page = admin_page
    page.goto("/admin/events")
    page.wait_for_selector("[data-live-status].on")
    make_client(server, "Live")
    page.wait_for_selector("table#events tbody tr:has-text('clients.created')")
    shot(page, "events")


def test_edit_v1_to_v2_invalid_edit_and_rollback(admin_page: Any, server: Server) -> None:
    page = admin_page
    client_id = make_client(server)
    assert "firstname" in through_gateway(server, client_id)  # v1 representation

    page.goto("/admin/routes")
    page.wait_for_selector("tr[data-app=mobile] .badge.applied")
    shot(page, "routes")
    page.click("tr[data-app=mobile] a >> text=edit")
    original = editor_text(page)
    assert V1 in original
    page.fill("textarea[name=content]", original.replace(V1, V2))
    page.click("button[value=check]")
    page.wait_for_selector("#checked")
    assert V2 in page.text_content("pre#diff .add")
    shot(page, "routes-edit-diff")
    page.click("button[value=save]")
    page.wait_for_selector("#flash")
    # through the gateway the app now gets v2's representation, with no restart
    body = wait_for(
        lambda: (b := through_gateway(server, client_id)) and "name" in b and b,
        "the v2 mapping to serve",
    )
    assert body["name"]["first"] == "Ada"

    # an invalid edit is refused, with the place of the error; v2 keeps serving
    broken = editor_text(page).replace('"methods": ["GET"],', '"methods": ["GET"]', 1)
    page.fill("textarea[name=content]", broken)
    page.click("button[value=save]")
    problems = page.text_content("#problems")
    assert "Not saved" in problems and re.search(r"line \d+, column \d+", problems)
    shot(page, "routes-invalid")
    assert "name" in through_gateway(server, client_id)

    # history: the file as it was on disk, then the v2 save; roll back to the first one
    page.goto("/admin/routes/mobile/history")
    rows = page.locator("table#history tbody tr")
    assert rows.count() == 2
    assert "admin" in rows.first.text_content() and "save" in rows.first.text_content()
    shot(page, "routes-history")
    rows.last.locator("button").click()
    page.wait_for_selector("#flash")
    assert "rolled back" in page.text_content("#flash")
    assert V1 in editor_text(page)
    wait_for(lambda: "firstname" in through_gateway(server, client_id), "the v1 mapping again")


def test_two_concurrent_edits_conflict_and_no_edit_is_lost(new_page: Any, server: Server) -> None:
    alice, bob = new_page(), new_page()
    for page in (alice, bob):
        login(page)
        page.goto("/admin/routes")
    alice.fill("form#new-app input[name=app]", "kiosk")
    alice.click("form#new-app button")
    alice.wait_for_selector("#flash")
    bob.goto("/admin/routes/kiosk")
    base = editor_text(alice)
    alice_text = base.replace(
        '"routes": [\n  ]', '"description": "alice was here",\n  "routes": [\n  ]'
    )
    bob_text = base.replace(
        '"routes": [\n  ]', '"description": "bob was here",\n  "routes": [\n  ]'
    )
    assert alice_text != base and bob_text != base
    alice.fill("textarea[name=content]", alice_text)
    bob.fill("textarea[name=content]", bob_text)
    alice.click("button[value=save]")
    alice.wait_for_selector("#flash")
    bob.click("button[value=save]")
    bob.wait_for_selector("#conflict")
    assert "bob was here" in editor_text(bob)  # bob keeps his text
    assert "alice was here" in bob.text_content("pre#diff")
    shot(bob, "routes-conflict")
    status, _ = server.api("GET", "/api/v1/admin/routes/kiosk")
    assert status == 200
    bob.goto("/admin/routes/kiosk")
    assert "alice was here" in editor_text(bob)  # alice's save was not overwritten


def test_script_in_a_route_field_is_shown_escaped(admin_page: Any, server: Server) -> None:
    page = admin_page
    evil = (
        '{"version": 1, "routes": [{"path": "/x", "location": "/api/v1/me", '
        '"description": "<script>window.__xss = 1</script><img src=x onerror=window.__xss=2>"}]}'
    )
    page.goto("/admin/routes")
    page.fill("form#new-app input[name=app]", "evil")
    page.fill("form#new-app textarea[name=content]", evil)
    page.click("form#new-app button")
    page.wait_for_selector("#flash")
    assert "<script>window.__xss = 1</script>" in editor_text(page)
    # an invalid value echoed in an error message is escaped too
    page.fill("textarea[name=content]", evil.replace('"/x"', '"<script>window.__xss=3</script>"'))
    page.click("button[value=save]")
    page.wait_for_selector("#problems")
    assert "<script>window.__xss=3</script>" in page.text_content("#problems")
    shot(page, "escaped")
    for path in ("/admin/routes", "/admin/routes/evil/history"):
        page.goto(path)
    assert page.evaluate("window.__xss") is None
    assert page.locator("script:not([src])").count() == 0


def test_form_without_csrf_token_is_refused(admin_page: Any) -> None:
    page = admin_page
    page.goto("/admin/routes")
    page.evaluate(
        'document.querySelectorAll("form#reload-form input[name=_csrf]").forEach(e => e.remove())'
    )
    page.click("form#reload-form button")
    page.wait_for_selector("h1:has-text('403')")
    assert "CSRF" in page.text_content("main")
    shot(page, "csrf-refused")


def test_non_admin_user_is_refused(new_page: Any) -> None:
    page = new_page()
    login(page, "clerk", CLERK_PASSWORD)
    page.wait_for_selector("h1:has-text('403')")
    assert "does not have the admin role" in page.text_content("main")
    shot(page, "non-admin-refused")
    page.goto("/admin/jobs")
    assert "/admin/login" in page.url  # no session was given


def _batch(size: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {"requestId": 1, "method": "GET", "relativeUrl": "clients/999999"}  # fails: 404
    ]
    for i in range(2, size + 1):
        items.append(
            {
                "requestId": i,
                "method": "POST",
                "relativeUrl": "clients",
                "body": {
                    "officeId": 1,
                    "firstname": f"Batch{i}",
                    "lastname": "Job",
                    "active": False,
                    "locale": "en",
                    "dateFormat": "dd MMMM yyyy",
                    "submittedOnDate": "01 January 2026",
                },
            }
        )
    return items


def test_job_progress_live_pause_resume_retry(admin_page: Any, server: Server) -> None:
    page = admin_page
    status, body = server.api(
        "POST", "/api/v1/batches?async=true", _batch(2500), headers={"Prefer": "respond-async"}
    )
    assert status == 202, body
    job_id = body["id"]
    page.goto(f"/admin/jobs/{job_id}")
    page.wait_for_selector("[data-live-status].on")
    # progress moves without a reload
    first = float(page.text_content("#job-percent"))
    wait_for(lambda: float(page.text_content("#job-percent")) > first, "progress to move live")
    page.click("form[action$='/pause'] button")
    page.wait_for_selector("#job-state.paused")
    shot(page, "job-paused")
    page.click("form[action$='/resume'] button")
    page.wait_for_selector("#job-state.running, #job-state.completed, #job-state.failed")
    page.wait_for_selector("#job-state.completed, #job-state.failed", timeout=120_000)
    page.reload()
    failed = page.locator("table#failed-items tbody tr")
    assert failed.count() == 1 and "clients/999999" in failed.first.text_content()
    assert "404" in failed.first.text_content()  # its error is shown
    finished_before = failed.first.locator("td.finished").text_content()
    page.click("form[action$='/retry'] button")
    page.wait_for_selector(".flash:has-text('retry')")
    page.wait_for_selector("#job-state.completed, #job-state.failed", timeout=60_000)

    def retried() -> bool:
        page.reload()
        rows = page.locator("table#failed-items tbody tr td.finished")
        return rows.count() == 1 and rows.first.text_content() != finished_before

    wait_for(retried, "the failed item to run again")
    shot(page, "job-detail")
    page.goto("/admin/jobs?kind=batch")
    page.wait_for_selector(f"tr[data-job='{job_id}']")
    shot(page, "jobs")


def test_start_a_workflow_with_parameters(admin_page: Any, server: Server) -> None:
    page = admin_page
    page.goto("/admin/workflows")
    form = page.locator("section[id='wf-wfdemo.count'] form")
    form.locator("input[name='param.chunks']").fill("12")
    form.locator("input[name='param.label']").fill("<b>from the UI</b>")
    shot(page, "workflows")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/admin/jobs/\d+.*"))
    page.wait_for_selector("#job-state.completed", timeout=60_000)
    assert page.text_content("[data-field=total]") == "12"
    job_id = page.url.split("/admin/jobs/")[1].split("?")[0]
    status, body = server.api("GET", f"/api/v1/jobs/{job_id}")
    assert status == 200 and body["params"]["chunks"] == 12
    assert body["params"]["label"] == "<b>from the UI</b>"
