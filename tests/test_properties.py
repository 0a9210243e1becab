"""Property-based tests (issue 12 #9): hostile input to the pure parsers yields nothing but
documented problems: the JSON decoder, the batch parser, planner and reference resolver, and the
route file compiler never raise anything else, whatever they are given."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from host.batch.items import parse_batch
from host.batch.plan import build_plan
from host.batch.refs import PathError, Unresolved, find_refs, parse_path, resolve_text
from host.gateway.table import compile_table
from host.json_limits import MAX_DEPTH
from host.pipeline import decode_json
from host.problems import Problem

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON_PROBLEMS = {"/problems/malformed-json", "/problems/json-too-complex"}
BATCH_PROBLEMS = JSON_PROBLEMS | {"/problems/invalid-batch", "/problems/batch-too-large"}

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


# JSON decoder ------------------------------------------------------------------------------------
@SETTINGS
@given(st.binary(max_size=300))
def test_decoder_any_bytes(raw: bytes) -> None:
    try:
        decode_json(raw)
    except Problem as problem:
        assert problem.status == 400
        assert problem.type in JSON_PROBLEMS


@SETTINGS
@given(json_values)
def test_decoder_round_trips_what_it_accepts(value: Any) -> None:
    assert decode_json(json.dumps(value).encode()) == value


@SETTINGS
@given(st.integers(min_value=1, max_value=3000), st.sampled_from("[{"))
def test_decoder_depth_limit(n: int, bracket: str) -> None:
    opening, closing = ("[", "]") if bracket == "[" else ('{"a":', "}")
    raw = (opening * n + "1" + closing * n).encode()
    try:
        value = decode_json(raw)
    except Problem as problem:
        assert problem.type == "/problems/json-too-complex"
        assert n > MAX_DEPTH
    else:
        assert n <= MAX_DEPTH and depth(value) == n


@SETTINGS
@given(st.integers(min_value=1, max_value=6000), st.booleans())
def test_decoder_long_integers(digits: int, negative: bool) -> None:
    raw = ("-" if negative else "") + "7" * digits
    try:
        value = decode_json(raw.encode())
    except Problem as problem:
        assert problem.type == "/problems/json-too-complex" and digits > 100
    else:
        assert digits <= 100 and value == int(raw)


# batch parser, planner, references ---------------------------------------------------------------
ids = st.integers(min_value=-2, max_value=6) | st.sampled_from(["1", "x", "", "2"])
items = st.fixed_dictionaries(
    {},
    optional={
        "requestId": ids,
        "relativeUrl": st.sampled_from(["clients", "/clients/$.id", "v1/x/${1:$.a}", "${", "$"])
        | st.text(max_size=12),
        "method": st.sampled_from(["GET", "POST", "PUT", "DELETE", "get", "TRACE"])
        | st.text(max_size=4),
        "reference": ids,
        "dependsOn": st.lists(ids, max_size=3) | ids,
        "body": json_values | st.sampled_from(['{"a": "$.b"}', "[", '"${2:$.x}"']),
        "headers": st.lists(
            st.fixed_dictionaries({"name": st.text(max_size=10), "value": st.text(max_size=10)}),
            max_size=2,
        )
        | json_values,
        "atomicityGroup": st.text(max_size=3) | st.integers(),
    },
)
batches = st.lists(items, max_size=8) | json_values


@SETTINGS
@given(batches)
def test_batch_parser_and_planner(batch: Any) -> None:
    try:
        parsed = parse_batch(json.dumps(batch).encode(), max_items=5)
        build_plan(parsed)
    except Problem as problem:
        assert problem.status in (400, 413)
        assert problem.type in BATCH_PROBLEMS, problem.type


@SETTINGS
@given(st.text(max_size=40), json_values)
def test_reference_resolver(text: str, answer: Any) -> None:
    def lookup(source: str | None, path: str, steps: Any) -> Any:
        from host.batch.refs import lookup_path

        return lookup_path(answer, steps, source=source, path=path)

    try:
        find_refs(text)
        resolve_text(text, lookup, keep_type=True)
    except (PathError, Unresolved):
        pass


@SETTINGS
@given(st.text(alphabet="$.[]'\"ab01٣²_ -", max_size=20))
def test_paths(text: str) -> None:
    try:
        steps = parse_path(text)
    except PathError:
        return
    assert all(isinstance(s, str) or s >= 0 for s in steps)


# route file compiler -----------------------------------------------------------------------------
VALID = {
    "version": 1,
    "upstreams": {"up": {"url": "http://127.0.0.1:9/api"}},
    "routes": [
        {"path": "/things/{id}", "location": "/api/v1/things/{id}", "roles": ["r"]},
        {"path": "/up/{rest*}", "upstream": "up", "location": "/{rest}", "public": True},
    ],
}


@SETTINGS
@given(st.binary(max_size=200))
def test_compiler_any_bytes(raw: bytes) -> None:
    result = compile_table("fuzz", raw)
    assert result.table is None or not result.errors


@SETTINGS
@example("version", 1, 0, "methods", [[]])  # crashed the compiler (unhashable list): found here
@given(
    st.sampled_from(["version", "upstreams", "routes", "description", "extra"]),
    json_values,
    st.integers(min_value=0, max_value=1),
    st.sampled_from(["path", "location", "methods", "roles", "upstream", "priority", "public"]),
    json_values,
)
def test_compiler_mutated_documents(
    key: str, value: Any, index: int, route_key: str, route_value: Any
) -> None:
    doc = json.loads(json.dumps(VALID))
    doc[key] = value
    mutated = json.loads(json.dumps(VALID))
    mutated["routes"][index][route_key] = route_value
    for candidate in (doc, mutated):
        result = compile_table("fuzz", json.dumps(candidate))
        assert (result.table is None) == bool(result.errors)
        for error in result.errors:
            assert error.line >= 1 and error.column >= 1
