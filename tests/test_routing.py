"""The segment trie that routes REST and gateway paths: pure lookups, no server."""

from __future__ import annotations

import pytest

from host.pipeline.routing import MethodNotAllowed, NoRoute, PatternError, Router


def router(*routes: tuple[str, str] | tuple[str, str, int]) -> Router[str]:
    """A router whose targets are the patterns' labels: (pattern, label[, priority]), GET only."""
    r: Router[str] = Router()
    for pattern, label, *priority in routes:
        r.add(pattern, ["GET"], label, *priority)
    return r


def target(r: Router[str], path: str, method: str = "GET") -> tuple[str, dict[str, str]]:
    found = r.match(method, path)
    return found.target, found.params


def test_static_segment_beats_parameter_which_beats_tail() -> None:
    r = router(("/c/{id}", "param"), ("/c/{rest*}", "tail"), ("/c/new", "static"))
    assert target(r, "/c/new") == ("static", {})
    assert target(r, "/c/42") == ("param", {"id": "42"})
    assert target(r, "/c/42/notes") == ("tail", {"rest": "42/notes"})


def test_specificity_does_not_depend_on_the_order_routes_were_added() -> None:
    forward = router(("/c/new", "static"), ("/c/{id}", "param"))
    backward = router(("/c/{id}", "param"), ("/c/new", "static"))
    for r in (forward, backward):
        assert target(r, "/c/new")[0] == "static"
        assert target(r, "/c/7")[0] == "param"


def test_backtracks_when_the_static_branch_leads_nowhere() -> None:
    r = router(("/a/b/c", "static"), ("/a/{x}/d", "param"))
    assert target(r, "/a/b/d") == ("param", {"x": "b"})
    assert target(r, "/a/b/c") == ("static", {})


def test_parameters_take_one_non_empty_segment_and_are_url_decoded() -> None:
    r = router(("/c/{id}/loans/{loan}", "loan"))
    assert target(r, "/c/a%20b/loans/9") == ("loan", {"id": "a b", "loan": "9"})
    with pytest.raises(NoRoute):
        r.match("GET", "/c/1/loans")
    with pytest.raises(NoRoute):
        r.match("GET", "/c/1/loans/9/extra")


def test_empty_segments_and_trailing_slashes_are_ignored() -> None:
    r = router(("/a/b", "ab"))
    assert target(r, "/a/b/")[0] == "ab"
    assert target(r, "//a//b")[0] == "ab"


def test_tail_takes_the_rest_of_the_path_including_nothing() -> None:
    r = router(("/files/{path*}", "files"), ("/any/*", "star"))
    assert target(r, "/files/a/b/c.txt") == ("files", {"path": "a/b/c.txt"})
    assert target(r, "/files") == ("files", {"path": ""})
    assert target(r, "/any/x/y") == ("star", {"tail": "x/y"})


def test_no_matching_pattern_is_no_route() -> None:
    r = router(("/clients", "list"))
    with pytest.raises(NoRoute):
        r.match("GET", "/loans")
    with pytest.raises(NoRoute):
        r.match("GET", "/")


def test_a_path_with_other_methods_is_method_not_allowed_listing_them() -> None:
    r: Router[str] = Router()
    r.add("/items", ["GET"], "list")
    r.add("/items", ["POST"], "create")
    r.add("/items/{id}", ["DELETE"], "delete")
    with pytest.raises(MethodNotAllowed) as caught:
        r.match("PUT", "/items")
    assert caught.value.allowed == ("GET", "HEAD", "POST")  # GET answers HEAD too
    with pytest.raises(MethodNotAllowed) as caught:
        r.match("GET", "/items/3")
    assert caught.value.allowed == ("DELETE",)


def test_head_is_answered_by_get_and_methods_are_case_insensitive() -> None:
    r: Router[str] = Router()
    r.add("/items", ["get"], "list")
    assert r.match("HEAD", "/items").target == "list"
    assert r.match("get", "/items").target == "list"


def test_method_not_allowed_only_when_no_route_matches_the_method() -> None:
    r: Router[str] = Router()
    r.add("/c/new", ["POST"], "static-post")
    r.add("/c/{id}", ["GET"], "param-get")
    assert r.match("GET", "/c/new").target == "param-get"  # the static branch has no GET
    assert r.match("POST", "/c/new").target == "static-post"
    with pytest.raises(MethodNotAllowed) as caught:
        r.match("DELETE", "/c/new")
    assert set(caught.value.allowed) == {"GET", "HEAD", "POST"}


def test_priority_beats_specificity_and_ties_go_to_the_most_specific() -> None:
    r = router(("/c/{id}", "param", 10), ("/c/new", "static"))
    assert target(r, "/c/new")[0] == "param"
    tie = router(("/c/{id}", "param", 5), ("/c/new", "static", 5), ("/c/{rest*}", "tail", 5))
    assert target(tie, "/c/new")[0] == "static"
    assert target(tie, "/c/7")[0] == "param"
    assert target(tie, "/c/7/x")[0] == "tail"
    low = router(("/c/{rest*}", "tail", -1), ("/c/{id}", "param"))
    assert target(low, "/c/7")[0] == "param"


def test_the_match_names_its_pattern() -> None:
    r = router(("/c/{id}", "param"))
    assert r.match("GET", "/c/1").pattern == "/c/{id}"
    assert len(r) == 1


@pytest.mark.parametrize(
    "pattern",
    [
        "clients",  # no leading slash
        "/c/{id}/{id}",  # repeated parameter
        "/c/{rest*}/x",  # tail not last
        "/c/*/x",  # bare star not last
        "/c/{1id}",  # bad parameter name
        "/c/{id",  # unbalanced brace
        "/c/../x",  # dot segments
        "/c/./x",
        "/c/a b",  # character outside the static set
        "/c/a?b",
    ],
)
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(PatternError):
        Router[str]().add(pattern, ["GET"], "x")


def test_unknown_method_and_duplicate_route_are_refused() -> None:
    r: Router[str] = Router()
    r.add("/c/{id}", ["GET"], "first")
    with pytest.raises(PatternError, match="unknown method"):
        r.add("/d", ["FETCH"], "x")
    with pytest.raises(PatternError, match="duplicates"):
        r.add("/c/{other}", ["GET"], "second")  # same shape, another parameter name
    r.add("/c/{other}", ["POST"], "post")  # another method on the same shape is fine
    assert r.match("POST", "/c/1").params == {"other": "1"}  # each route names its own
    assert r.match("GET", "/c/1").params == {"id": "1"}


def test_a_resource_router_gives_a_path_to_its_most_specific_pattern() -> None:
    """The plugin API's router (OpenAPI's rule): `/a/status` is its own resource, so a method it
    lacks is a 405 naming its methods alone, not a fall-back to `/a/{x}` (whose `Allow` would list
    methods the document does not give `/a/status`); other paths still reach `/a/{x}`."""
    r: Router[str] = Router(resources=True)
    r.add("/a/status", ["GET"], "status")
    r.add("/a/{x}", ["GET", "PUT", "DELETE"], "app")
    r.add("/a/{x}/d", ["GET"], "deeper")
    for method in ("PUT", "DELETE", "OPTIONS"):
        with pytest.raises(MethodNotAllowed) as refused:
            r.match(method, "/a/status")
        assert refused.value.allowed == ("GET", "HEAD")
    assert target(r, "/a/status", "HEAD")[0] == "status"
    assert target(r, "/a/other", "PUT") == ("app", {"x": "other"})
    with pytest.raises(MethodNotAllowed) as refused:
        r.match("OPTIONS", "/a/other")
    assert refused.value.allowed == ("DELETE", "GET", "HEAD", "PUT")
    # a branch with no resource at the path still backtracks
    assert target(r, "/a/status/d") == ("deeper", {"x": "status"})
    # the route-file router keeps backtracking for a method
    files: Router[str] = Router()
    files.add("/a/status", ["GET"], "status")
    files.add("/a/{x}", ["GET", "PUT"], "app")
    assert target(files, "/a/status", "PUT") == ("app", {"x": "status"})


def test_a_resource_router_has_no_priorities() -> None:
    with pytest.raises(PatternError):
        Router[str](resources=True).add("/a", ["GET"], "a", priority=1)
