"""The GraphQL query page in a real browser: log in, run a cross-plugin query, list the schema.

The page's Content-Security-Policy forbids eval, so waits use locators, not wait_for_function.
"""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_PASSWORD, Server


def test_graphql_page_logs_in_runs_a_query_and_lists_the_schema(
    new_page: Any, server: Server
) -> None:
    status, created = server.api(
        "POST",
        "/api/v1/clients",
        {"firstname": "Page", "lastname": "Viewer", "externalId": "gql-page"},
    )
    assert status == 201
    page = new_page()
    page.goto("/graphql")
    assert page.title() == "plughost GraphQL"
    page.fill("#user", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("#login")
    expect(page.locator("#status")).to_have_text("logged in")
    page.fill(
        "#query",
        # by id: the browser tests share one server, and other tests create many clients
        f'{{ viewer {{ subject }} client(id: "{created["clientId"]}") '
        "{ externalId displayName loans { id } } }",
    )
    page.press("#query", "Control+Enter")
    expect(page.locator("#result")).to_contain_text("viewer")
    result = json.loads(page.text_content("#result"))
    assert result["data"]["viewer"] == {"subject": "admin"}
    assert result["data"]["client"] == {
        "externalId": "gql-page",
        "displayName": "Page Viewer",
        "loans": [],
    }
    page.click("#explore")
    expect(page.locator("#schema")).to_contain_text("type Client")
    schema = page.text_content("#schema")
    assert "  loans: [Loan!]" in schema
    assert "  savingsAccounts: [SavingsAccount!]" in schema
    assert "  createClient(input: NewClientInput!): Client!" in schema
