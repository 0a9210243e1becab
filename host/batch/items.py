"""A batch request body parsed into typed items, with every check made before anything runs (pure).

Each problem found is reported with the item's index and requestId; the endpoint answers all of
them in one 400 problem+json (`errors` lists every one, `detail` names the first).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from host import json_limits
from host.batch import lenient
from host.batch.refs import PathError, Ref, find_refs, find_refs_json
from host.pipeline import decode_json
from host.pipeline.call import ITEM_IDENTITY_HEADERS, ITEM_IGNORED_HEADERS
from host.problems import Problem

__all__ = (
    "IDENTITY_HEADERS",
    "IGNORED_HEADERS",
    "BatchItem",
    "ItemError",
    "check_relative_url",
    "invalid",
    "load_json",
    "parse_batch",
    "validate_headers",
)

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
FIELDS = frozenset(
    {
        "requestId",
        "relativeUrl",
        "method",
        "headers",
        "reference",
        "dependsOn",
        "body",
        "atomicityGroup",
    }
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_VERSION = re.compile(r"^v[0-9]{1,3}$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")
MAX_URL = 4096

IDENTITY_HEADERS = ITEM_IDENTITY_HEADERS
"""An item may repeat the batch's own value (ignored) but never send another one (400)."""
IGNORED_HEADERS = ITEM_IGNORED_HEADERS


@dataclass(frozen=True, slots=True)
class ItemError:
    index: int
    request_id: Any
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "requestId": self.request_id, "message": self.message}


@dataclass(slots=True)
class BatchItem:
    index: int
    request_id: Any
    """As sent (number or string), echoed in the answer."""
    key: str
    """The requestId as text: what references and `${id:...}` use."""
    method: str
    relative_url: str
    """Below the API root, without a leading `/` or API version (`clients/5?x=1`)."""
    headers: list[tuple[str, str]] = field(default_factory=list)
    reference: str | None = None
    """The parent `$.path` values come from (Fineract's `reference`)."""
    parents: tuple[str, ...] = ()
    """Every item that must finish first: `reference` plus `dependsOn`."""
    body: Any = None
    has_body: bool = False
    refs: list[Ref] = field(default_factory=list)
    version: str | None = None
    """The API version the relativeUrl named (`v1/clients`, Fineract's current form), if any."""
    group: str | None = None
    """`atomicityGroup` (OData's term): the items of a group commit together or not at all."""

    def echo_headers(self) -> list[tuple[str, str]]:
        """The item's headers its answer repeats (Fineract echoes them, e.g. Idempotency-Key);
        never credentials, and not the ones describing the item's body or connection."""
        return [
            (n, v)
            for n, v in self.headers
            if n.lower() not in IDENTITY_HEADERS and n.lower() not in IGNORED_HEADERS
        ]

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for n, v in self.headers if n.lower() == wanted), None)

    @property
    def label(self) -> str:
        return f"item {self.index} (requestId {self.request_id!r})"


class _Errors(list[ItemError]):
    def add(self, index: int, request_id: Any, message: str) -> None:
        self.append(ItemError(index, request_id, message))


def invalid(errors: list[ItemError]) -> Problem:
    first = errors[0]
    detail = f"item {first.index} (requestId {first.request_id!r}): {first.message}"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more problem(s), see errors)"
    return Problem(
        400,
        detail,
        slug="invalid-batch",
        itemIndex=first.index,
        itemRequestId=first.request_id,
        errors=[e.as_dict() for e in errors[:100]],
    )


def load_json(raw: bytes | str) -> Any:
    """An item body as Fineract reads it: lenient JSON (see host.batch.lenient)."""
    return lenient.loads(raw.decode() if isinstance(raw, bytes) else raw)


def parse_batch(raw: bytes, *, max_items: int) -> list[BatchItem]:
    """The request body → items; Problem 400 (bad shape or items) or 413 (too many items)."""
    data = decode_json(raw, what="The batch", strict=False)
    if not isinstance(data, list):
        raise Problem(400, "A batch is a JSON array of requests", slug="invalid-batch")
    if not data:
        raise Problem(400, "The batch is empty: send at least one request", slug="invalid-batch")
    if len(data) > max_items:
        raise Problem(
            413,
            f"The batch has {len(data)} requests; the limit is {max_items}",
            slug="batch-too-large",
            limit=max_items,
        )
    errors = _Errors()
    items = [_item(i, entry, errors) for i, entry in enumerate(data)]
    if errors:
        raise invalid(errors)
    parsed = [item for item in items if item is not None]
    _check_links(parsed, errors)
    if errors:
        raise invalid(errors)
    return parsed


def _item(index: int, entry: Any, errors: _Errors) -> BatchItem | None:
    if not isinstance(entry, dict):
        errors.add(index, None, "a request must be a JSON object")
        return None
    request_id = entry.get("requestId")
    count = len(errors)
    key = _request_key(request_id)
    if key is None:
        errors.add(index, request_id, "requestId is required: a number or a short string")
    unknown = sorted(set(entry) - FIELDS)
    if unknown:
        errors.add(index, request_id, f"unknown field(s): {', '.join(unknown)}")
    method = entry.get("method")
    if not isinstance(method, str) or method.upper() not in METHODS:
        errors.add(
            index,
            request_id,
            f"method {method!r} is not supported; use {', '.join(sorted(METHODS))}",
        )
    url = entry.get("relativeUrl")
    url_error = check_relative_url(url)
    if url_error:
        errors.add(index, request_id, url_error)
    headers = _headers(entry.get("headers"), index, request_id, errors)
    reference = _parent_key(entry.get("reference"), "reference", index, request_id, errors)
    depends = entry.get("dependsOn", [])
    if not isinstance(depends, list):
        errors.add(index, request_id, "dependsOn must be an array of requestIds")
        depends = []
    parents: list[str] = [reference] if reference is not None else []
    for parent in depends:
        parent_key = _parent_key(parent, "dependsOn", index, request_id, errors)
        if parent_key is not None and parent_key not in parents:
            parents.append(parent_key)
    body, has_body = _body(entry.get("body"), "body" in entry, index, request_id, errors)
    group = entry.get("atomicityGroup")
    group_key = None if group is None else _request_key(group)
    if group is not None and group_key is None:
        errors.add(index, request_id, f"atomicityGroup {group!r} must be a number or short name")
    if len(errors) > count or key is None:
        return None
    version, relative_url = split_version(str(url))
    item = BatchItem(
        index=index,
        request_id=request_id,
        key=key,
        method=str(method).upper(),
        relative_url=relative_url,
        version=version,
        group=group_key,
        headers=headers,
        reference=reference,
        parents=tuple(parents),
        body=body,
        has_body=has_body,
    )
    item.refs = _refs(item, errors)
    return item


def _request_key(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and _REQUEST_ID.match(value):
        return value
    return None


def _parent_key(value: Any, name: str, index: int, request_id: Any, errors: _Errors) -> str | None:
    if value is None:
        return None
    key = _request_key(value)
    if key is None:
        errors.add(index, request_id, f"{name} {value!r} is not a requestId")
    return key


def _headers(value: Any, index: int, request_id: Any, errors: _Errors) -> list[tuple[str, str]]:
    """Fineract's `[{name, value}]`, or a plain `{name: value}` object."""
    if value is None:
        return []
    pairs: list[tuple[Any, Any]]
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list) and all(isinstance(h, dict) for h in value):
        pairs = [(h.get("name"), h.get("value")) for h in value]
    else:
        errors.add(index, request_id, "headers must be an array of {name, value} objects")
        return []
    out = []
    for name, val in pairs:
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            errors.add(index, request_id, f"header name {name!r} is not valid")
        elif not isinstance(val, str) or any(c in val for c in "\r\n\0"):
            errors.add(index, request_id, f"header {name} must have a one-line string value")
        else:
            out.append((name, val))
    return out


def _body(
    value: Any, present: bool, index: int, request_id: Any, errors: _Errors
) -> tuple[Any, bool]:
    """Fineract sends the body as a JSON-encoded string; a JSON object or array is accepted too."""
    if not present or value is None:
        return None, False
    if isinstance(value, str):
        if not value.strip():
            return None, False
        try:
            return load_json(value), True
        except (json.JSONDecodeError, lenient.LenientError) as exc:
            errors.add(
                index,
                request_id,
                f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            )
            return None, False
        except json_limits.JSONTooComplex as exc:
            errors.add(index, request_id, f"body is too complex: {exc}")
            return None, False
    if isinstance(value, dict | list):
        return value, True
    errors.add(index, request_id, "body must be a JSON-encoded string or a JSON object")
    return None, False


def _refs(item: BatchItem, errors: _Errors) -> list[Ref]:
    refs: list[Ref] = []
    try:
        refs += _url_refs(item.relative_url)
        for _, value in item.headers:
            refs += find_refs(value)
        if item.has_body:
            refs += list(find_refs_json(item.body))
    except PathError as exc:
        errors.add(item.index, item.request_id, f"bad reference: {exc}")
    return refs


def _url_refs(url: str) -> list[Ref]:
    refs: list[Ref] = []
    path, _, query = url.partition("?")
    for segment in path.split("/"):
        refs += find_refs(segment)
    for pair in query.split("&"):
        refs += find_refs(unquote(pair.partition("=")[2]))
    return refs


def split_version(url: str) -> tuple[str | None, str]:
    """`/v1/clients?x=1` → ("v1", "clients?x=1"); `clients` → (None, "clients").

    Fineract's clients write `v1/clients` today and `clients` in older code; both mean the same
    resource, so the version is taken off the path and chosen as the item's API version.
    """
    url = url.removeprefix("/")
    first, sep, rest = url.partition("/")
    if sep and rest and _VERSION.match(first.lower()):
        return first.lower(), rest
    return None, url


def check_relative_url(url: Any) -> str | None:
    """Why `url` may not be used as an item's relativeUrl, or None when it is fine.

    It must stay below the version's API root: no scheme or host, no `..` or `.` segment, no
    backslash, no encoded separator or dot (`%2f`, `%5c`, `%2e`, double encoding via `%25`), no
    control characters, and it must not target the batch endpoint itself.
    """
    if not isinstance(url, str) or not url.strip():
        return "relativeUrl is required (e.g. 'clients' or 'clients/5?fields=id')"
    if len(url) > MAX_URL:
        return f"relativeUrl is longer than {MAX_URL} characters"
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        return "relativeUrl contains spaces or control characters"
    if "\\" in url:
        return "relativeUrl contains a backslash"
    if url.startswith("//"):
        return "relativeUrl must be relative to the API root, not name a host"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return "relativeUrl must be relative to the API root, not an absolute URL"
    if parts.fragment or "#" in url:
        return "relativeUrl must not contain a fragment ('#')"
    path = parts.path.removeprefix("/")
    lowered = path.lower()
    for encoded in ("%2f", "%5c", "%2e", "%25", "%00"):
        if encoded in lowered:
            return f"relativeUrl contains an encoded separator or dot ({encoded})"
    segments = unquote(path).split("/")
    if any(s in {".", ".."} for s in segments):
        return "relativeUrl must not contain '.' or '..' segments"
    if len(segments) > 1 and _VERSION.match(segments[0].lower()):
        segments = segments[1:]
    if not segments[0]:
        return "relativeUrl must name a resource (e.g. 'clients')"
    if segments[0].lower() == "batches":
        return "relativeUrl must not target the batch endpoint itself (no batch of batches)"
    return None


def _check_links(items: list[BatchItem], errors: _Errors) -> None:
    """Known parents, named unambiguously; `$.path` only with a parent, `${id:...}` only from one.

    A requestId may repeat (Fineract accepts that: its own tests send several items with one id)
    as long as nothing refers to it: a reference to a repeated id could mean either item.
    """
    seen: dict[str, list[BatchItem]] = {}
    for item in items:
        seen.setdefault(item.key, []).append(item)

    def ambiguous(item: BatchItem, key: str, how: str) -> bool:
        same = seen.get(key, [])
        if len(same) < 2:
            return False
        where = ", ".join(str(other.index) for other in same)
        errors.add(
            item.index,
            item.request_id,
            f"{how} requestId {same[0].request_id!r}, which items {where} all have: "
            "a referenced requestId must be unique",
        )
        return True

    for item in items:
        for parent in item.parents:
            if parent not in seen:
                errors.add(item.index, item.request_id, f"depends on unknown requestId {parent!r}")
            else:
                ambiguous(item, parent, "depends on")
        for ref in item.refs:
            if (
                ref.source is not None
                and ref.source in seen
                and ambiguous(item, ref.source, "refers to")
            ):
                continue
            if ref.source is None and item.reference is None:
                errors.add(
                    item.index,
                    item.request_id,
                    f"{ref.path} needs a 'reference' parent (write $$ for a literal $)",
                )
            elif ref.source is not None and ref.source not in seen:
                errors.add(
                    item.index, item.request_id, f"${{{ref.source}:...}} names an unknown requestId"
                )


def validate_headers(items: list[BatchItem], batch_headers: Mapping[str, str], tenant: str) -> None:
    """Items cannot switch identity, tenant or micro-app: another value than the batch's is a 400."""
    errors = _Errors()
    for item in items:
        for name, value in item.headers:
            lowered = name.lower()
            if lowered not in IDENTITY_HEADERS:
                continue
            own = tenant if lowered == "x-tenant" else batch_headers.get(name)
            if value != own:
                errors.add(
                    item.index,
                    item.request_id,
                    f"header {name} differs from the batch's: an item runs as the batch's "
                    "identity, tenant and app and cannot switch them",
                )
    if errors:
        raise invalid(errors)
