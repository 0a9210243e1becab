"""The routes.d compiler on its own: one file's bytes in, a table or every error with line:col out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from host.gateway.table import CompileResult, compile_table
from host.pipeline.routing import MethodNotAllowed, NoRoute
from host.problems import Problem


def doc(*routes: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"version": 1, **top, "routes": list(routes)}


def compiled(document: dict[str, Any]) -> tuple[CompileResult, str]:
    text = json.dumps(document, indent=2)
    return compile_table("mobile", text), text


def place(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column where `needle` (unique in `text`) starts."""
    assert text.count(needle) == 1, needle
    before = text[: text.index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def test_a_good_file_maps_paths_to_locations_with_roles() -> None:
    result, _ = compiled(
        doc(
            {
                "path": "/clients/{id}",
                "location": "/api/v2/clients/{id}",
                "roles": ["clients:read"],
            },
            {
                "path": "/ping",
                "methods": ["GET", "POST"],
                "location": "/api/v1/ping",
                "public": True,
            },
        )
    )
    assert result.ok and result.errors == [] and result.warnings == []
    table = result.table
    assert table is not None and table.name == "mobile"
    found = table.match("GET", "/clients/7")
    assert found.target.target(found.params) == "/api/v2/clients/7"
    assert found.target.roles == ("clients:read",) and not found.target.public
    ping = table.match("POST", "/ping").target
    assert ping.public and ping.location == "/api/v1/ping"
    with pytest.raises(NoRoute):
        table.match("GET", "/loans")
    with pytest.raises(MethodNotAllowed):
        table.match("DELETE", "/ping")


def test_methods_default_to_get() -> None:
    result, _ = compiled(doc({"path": "/a", "location": "/api/v1/a"}))
    assert result.table is not None
    assert result.table.match("GET", "/a").target.methods == ("GET",)
    with pytest.raises(MethodNotAllowed):
        result.table.match("POST", "/a")


def test_the_same_bytes_give_the_same_digest_and_other_bytes_another() -> None:
    text = json.dumps(doc({"path": "/a", "location": "/api/v1/a"}))
    first, again = compile_table("m", text), compile_table("m", text.encode())
    other = compile_table("m", text + "\n")
    assert first.table and again.table and other.table
    assert first.table.digest == again.table.digest != other.table.digest


def test_parameters_are_url_encoded_into_the_location_and_dot_segments_refused() -> None:
    result, _ = compiled(
        doc(
            {"path": "/c/{id}", "location": "/api/v1/clients/{id}/x"},
            {"path": "/f/{rest*}", "location": "/api/v1/files/{rest}"},
        )
    )
    assert result.table is not None
    one = result.table.match("GET", "/c/a%2Fb%20c")
    assert one.target.target(one.params) == "/api/v1/clients/a%2Fb%20c/x"
    tail = result.table.match("GET", "/f/dir/my file.txt")
    assert tail.target.target(tail.params) == "/api/v1/files/dir/my%20file.txt"
    for path in ("/c/..", "/f/a/../b"):
        found = result.table.match("GET", path)
        with pytest.raises(Problem) as caught:
            found.target.target(found.params)
        assert caught.value.status == 400


def test_a_higher_priority_route_wins_over_a_more_specific_one() -> None:
    result, text = compiled(
        doc(
            {"path": "/c/new", "location": "/api/v1/new"},
            {"path": "/c/{id}", "location": "/api/v1/c/{id}", "priority": 10},
            {"path": "/d/new", "location": "/api/v1/d-new"},
            {"path": "/d/{id}", "location": "/api/v1/d/{id}"},
        )
    )
    assert result.table is not None
    assert result.table.match("GET", "/c/new").target.location == "/api/v1/c/{id}"
    assert result.table.match("GET", "/d/new").target.location == "/api/v1/d-new"  # no priority
    # the static route can never win: a warning that points at it, the table still works
    assert [w.pointer for w in result.warnings] == ["/routes/0/path"]
    warning = result.warnings[0]
    assert (warning.line, warning.column) == place(text, '"/c/new"')
    assert "shadowed" in warning.message and "/c/{id}" in warning.message


def test_a_route_shadowed_for_one_method_only_is_still_reported() -> None:
    result, _ = compiled(
        doc(
            {"path": "/c/x", "methods": ["GET", "POST"], "location": "/api/v1/x"},
            {"path": "/c/{id}", "methods": ["GET"], "location": "/api/v1/c/{id}", "priority": 1},
        )
    )
    assert result.table is not None
    assert result.table.match("POST", "/c/x").target.location == "/api/v1/x"
    assert len(result.warnings) == 1 and "GET" in result.warnings[0].message
    assert "POST" not in result.warnings[0].message


def test_every_error_in_a_file_is_reported_with_its_line_and_column_and_no_table() -> None:
    result, text = compiled(
        doc(
            {"path": "/a/{x", "location": "/api/v1/a"},
            {"path": "/b/{id}", "location": "/api/v1/b/{nope}"},
            {"path": "/ok", "location": "/api/v1/ok"},
            {"path": "/c", "location": "/x", "upstream": "partner"},
            {"path": "/d", "location": "/api/v1/d"},
            {"path": "/d", "location": "/api/v1/d-again"},
        )
    )
    assert result.table is None and not result.ok
    where = [(e.pointer, e.line, e.column) for e in result.errors]
    assert where == [
        ("/routes/0/path", *place(text, '"/a/{x"')),
        ("/routes/1/location", *place(text, '"/api/v1/b/{nope}"')),
        ("/routes/3/upstream", *place(text, '"partner"')),
        ("/routes/5/path", *place(text, '"/d",\n      "location": "/api/v1/d-again"')),
    ]
    messages = [e.message for e in result.errors]
    assert "{nope}" in messages[1]
    assert "'partner' is not declared" in messages[2]
    assert "duplicates" in messages[3]
    assert (
        result.errors[0]
        .format("mobile.json")
        .startswith(f"mobile.json:{result.errors[0].line}:{result.errors[0].column}: error: ")
    )


def test_json_syntax_errors_point_at_the_character() -> None:
    result = compile_table("m", '{"version": 1,\n  "routes": [}')
    assert result.table is None
    [error] = result.errors
    assert (error.line, error.column) == (2, 14) and "JSON syntax" in error.message


@pytest.mark.parametrize(
    ("raw", "says"),
    [(b"", "empty"), (b"  \n", "empty"), (b"\xff\xfe{}", "UTF-8"), (b"[]", "object")],
)
def test_unusable_bytes_are_one_error_at_the_start(raw: bytes, says: str) -> None:
    result = compile_table("m", raw)
    assert result.table is None and len(result.errors) == 1
    assert says in result.errors[0].message and result.errors[0].line == 1


def test_schema_errors_point_at_the_offending_value() -> None:
    document = doc(
        {"path": "/a", "location": "/api/v1/a"},
        {"path": "/b", "location": "/api/v1/b", "methods": ["FETCH"]},
        {"path": "/c"},
    )
    result, text = compiled(document)
    assert result.table is None
    where = {e.pointer: (e.line, e.column) for e in result.errors}
    assert where["/routes/1/methods/0"] == place(text, '"FETCH"')
    assert "/routes/2" in where  # the route lacking its location
    assert any("location" in e.message for e in result.errors)


def test_a_byte_order_mark_is_accepted() -> None:
    text = json.dumps(doc({"path": "/a", "location": "/api/v1/a"}))
    assert compile_table("m", "\ufeff" + text).ok


def test_routes_may_go_to_declared_upstreams_only() -> None:
    upstreams = {
        "partner": {
            "url": "https://partner.example/base",
            "timeout": 12,
            "client": {
                "token_url": "https://auth.example/token",
                "client_id": "gw",
                "secret_env": "PLUGHOST_UPSTREAM_SECRET_PARTNER",
            },
        },
        "plain": {"url": "http://plain.example"},
    }
    result, _ = compiled(
        doc(
            {"path": "/p/{id}", "location": "/v1/things/{id}", "upstream": "partner"},
            {"path": "/q", "location": "/q", "upstream": "plain"},
            upstreams=upstreams,
        )
    )
    assert result.table is not None
    partner = result.table.upstreams["partner"]
    assert str(partner.url) == "https://partner.example/base" and partner.timeout == 12
    assert (
        partner.client is not None
        and partner.client.secret_env == "PLUGHOST_UPSTREAM_SECRET_PARTNER"
    )
    assert result.table.upstreams["plain"].client is None
    found = result.table.match("GET", "/p/9")
    assert found.target.upstream == "partner"
    assert found.target.target(found.params) == "/v1/things/9"

    bad, text = compiled(
        doc(
            {"path": "/p", "location": "/v1", "upstream": "other"},
            upstreams={"partner": {"url": "https://partner.example/base"}},
        )
    )
    assert bad.table is None
    [error] = bad.errors
    assert error.pointer == "/routes/0/upstream" and (error.line, error.column) == place(
        text, '"other"'
    )
    assert "partner" in error.message  # names what is declared


@pytest.mark.parametrize(
    "upstream",
    [
        {"url": "https://partner.example/base?token=x"},  # query in the base URL
        {"url": "ftp://partner.example"},  # not http(s)
        {"url": "https://p.example", "client": {"token_url": "https://a/t", "client_id": "x"}},
    ],
)
def test_bad_upstream_declarations_are_errors(upstream: dict[str, Any]) -> None:
    result, _ = compiled(
        doc({"path": "/p", "location": "/v1", "upstream": "u"}, upstreams={"u": upstream})
    )
    assert result.table is None
    assert any(e.pointer.startswith("/upstreams/u") for e in result.errors), result.errors
