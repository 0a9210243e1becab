"""Errors as `application/problem+json` (RFC 9457).

Handlers raise `Problem` (or one of aiohttp's `HTTPException`s); the pipeline turns either into the
same JSON shape, with the request id, so clients parse one error format everywhere.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aiohttp import web

__all__ = ("PROBLEM_JSON", "Problem", "problem_body", "problem_response")

PROBLEM_JSON = "application/problem+json"

# a stable, documented slug per status for the plain HTTP errors; see docs/api.md
_DEFAULT_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    424: "failed-dependency",
    429: "too-many-requests",
    500: "internal-error",
    502: "bad-gateway",
    503: "unavailable",
    504: "gateway-timeout",
}


def problem_type(status: int, slug: str | None = None) -> str:
    return f"/problems/{slug or _DEFAULT_SLUGS.get(status, str(status))}"


class Problem(Exception):
    """An error a client should see. `extra` members are added to the JSON object (RFC 9457 §3.2)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.type = problem_type(status, slug)
        self.headers = headers or {}
        self.extra = extra

    def body(self, *, instance: str | None = None, request_id: str | None = None) -> dict[str, Any]:
        return problem_body(
            self.status,
            self.detail,
            title=self.title,
            type_=self.type,
            instance=instance,
            request_id=request_id,
            **self.extra,
        )


def problem_body(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str | None = None,
    instance: str | None = None,
    request_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type_ or problem_type(status),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if request_id:
        body["requestId"] = request_id
    body.update(extra)
    _add_fineract_members(body)
    return body


# Fineract's `userMessageGlobalisationCode` per status, when the raiser gave none
_FINERACT_CODES = {
    400: "validation.msg.validation.errors.exist",
    401: "error.msg.not.authenticated",
    403: "error.msg.not.authorized",
    404: "error.msg.resource.not.found",
    405: "error.msg.method.not.allowed",
    409: "error.msg.platform.data.conflict",
    413: "error.msg.request.too.large",
    415: "error.msg.unsupported.media.type",
    422: "validation.msg.validation.errors.exist",
    424: "error.msg.failed.dependency",
    429: "error.msg.too.many.requests",
    500: "error.msg.platform.server.side.error",
    503: "error.msg.platform.service.unavailable",
}


def _add_fineract_members(body: dict[str, Any]) -> None:
    """Fineract's error members as RFC 9457 extension members, so Fineract clients read our errors.

    Fineract answers `{developerMessage, httpStatusCode, defaultUserMessage,
    userMessageGlobalisationCode, errors: [{parameterName, value, ...}]}`; a client written for it
    shows `defaultUserMessage` or the first error's. A raiser may set the code itself
    (`userMessageGlobalisationCode=`); each entry of `errors` may carry `code`, `field`, `value`.
    """
    status = body["status"]
    detail = str(body["detail"])
    code = body.setdefault(
        "userMessageGlobalisationCode", _FINERACT_CODES.get(status, f"error.msg.http.{status}")
    )
    body.setdefault("developerMessage", detail)
    body.setdefault("httpStatusCode", str(status))
    body.setdefault("defaultUserMessage", detail)
    errors = body.get("errors")
    if errors is None:
        body["errors"] = [_fineract_error({}, code, detail)]
    elif isinstance(errors, list):
        body["errors"] = [
            _fineract_error(e, code, detail) if isinstance(e, dict) else e for e in errors
        ]


def _fineract_error(error: dict[str, Any], code: str, detail: str) -> dict[str, Any]:
    message = str(error.get("message") or detail)
    out = dict(error)
    out.setdefault("developerMessage", message)
    out.setdefault("defaultUserMessage", message)
    out.setdefault("userMessageGlobalisationCode", error.get("code") or code)
    out.setdefault("parameterName", error.get("field") or "id")
    out.setdefault("value", None)
    out.setdefault("args", [])
    return out


def problem_response(
    problem: Problem, *, instance: str | None = None, request_id: str | None = None
) -> web.Response:
    headers = dict(problem.headers)
    return web.Response(
        status=problem.status,
        body=json.dumps(problem.body(instance=instance, request_id=request_id)).encode(),
        content_type=PROBLEM_JSON,
        headers=headers,
    )


def from_http_exception(exc: web.HTTPException) -> Problem:
    """aiohttp's own errors (404 from the router, 405, 413 from client_max_size) as a Problem."""
    detail = exc.text or exc.reason
    if detail.startswith(f"{exc.status}:"):
        detail = detail.split(":", 1)[1].strip()
    headers = {}
    if "Allow" in exc.headers:
        headers["Allow"] = exc.headers["Allow"]
    if "WWW-Authenticate" in exc.headers:
        headers["WWW-Authenticate"] = exc.headers["WWW-Authenticate"]
    return Problem(exc.status, detail or exc.reason, headers=headers)
