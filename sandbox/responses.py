"""What the sandbox answers with: the Response, HubSpot's error bodies, paging cursors, JSON, and the readers of a
request's query string and body that answer HubSpot's validation errors."""
from __future__ import annotations

import base64
import uuid
from typing import Any, Dict, List, Optional, Tuple

try:
    import orjson

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

    def loads(b: bytes) -> Any:
        return orjson.loads(b)
except ImportError:  # pragma: no cover
    import json

    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

    def loads(b: bytes) -> Any:
        return json.loads(b)

Query = Dict[str, List[str]]  # parse_qs of a query string
Headers = List[Tuple[str, str]]

HTML_414 = (b"<html><head><title>414 Request-URI Too Large</title></head><body><center><h1>414 Request-URI Too "
            b"Large</h1></center><hr><center>cloudflare</center></body></html>")
HTML_502 = (b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
            b"<hr><center>cloudflare</center></body></html>")


class Response:
    __slots__ = ("status", "body", "ctype", "headers")

    def __init__(self, status: int, body: bytes, ctype: str = "application/json;charset=utf-8",
                 headers: Optional[Headers] = None) -> None:
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = headers or []


RESET = object()  # instead of a Response: the connection is reset (a fault)


class ApiError(Exception):
    def __init__(self, status: int, body: Dict[str, Any], headers: Optional[Headers] = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or []


def cid() -> str:
    return str(uuid.uuid4())


def err_body(message: str, category: str, **extra: Any) -> Dict[str, Any]:
    d = {"status": "error", "message": message, "correlationId": cid(), "category": category}
    d.update(extra)
    return d


def validation_error(message: str = "There was a problem with the request.", **extra: Any) -> ApiError:
    return ApiError(400, err_body(message, "VALIDATION_ERROR", **extra))


def ok(body: Any) -> Response:
    return Response(200, dumps(body))


# ------------------------------------------------------------------ cursors
def encode_cursor(n: int) -> str:
    return base64.urlsafe_b64encode(f"sbx:{n}".encode()).decode().rstrip("=")


def decode_cursor(s: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode()
        if not raw.startswith("sbx:"):
            raise ValueError
        return int(raw[4:])
    except Exception:
        raise validation_error(f"Invalid paging cursor: {s!r}. Use the value of paging.next.after from the "
                               f"previous response.")


LIST_CURSOR_TAGS = "be"  # b: the disorder block's part of a listing; e: the empty page here was given (quirks)


def encode_list_cursor(n: int, tags: str = "") -> str:
    """A list cursor; without tags exactly `encode_cursor(n)`."""
    if not tags:
        return encode_cursor(n)
    return base64.urlsafe_b64encode(f"sbx:{n}:{tags}".encode()).decode().rstrip("=")


def decode_list_cursor(s: str) -> Tuple[int, str]:
    """-> (position, tags) of a cursor from `encode_list_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode()
        if not raw.startswith("sbx:"):
            raise ValueError
        n, _, tags = raw[4:].partition(":")
        if tags.strip(LIST_CURSOR_TAGS):
            raise ValueError
        return int(n), "".join(t for t in LIST_CURSOR_TAGS if t in tags)
    except Exception:
        raise validation_error(f"Invalid paging cursor: {s!r}. Use the value of paging.next.after from the "
                               f"previous response.")


# ------------------------------------------------------------------ reading a request
def json_body(body: Optional[bytes]) -> Dict[str, Any]:
    try:
        obj = loads(body or b"{}")
    except Exception:
        raise validation_error("Invalid input JSON on line 1, column 1: Cannot parse request body")
    if not isinstance(obj, dict):
        raise validation_error("Invalid input JSON: expected an object")
    return obj


def csv_param(q: Query, name: str) -> List[str]:
    """Every comma-separated value of a repeatable query parameter."""
    out: List[str] = []
    for v in q.get(name, []):
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def int_param(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise validation_error(f"Unable to parse {name}: {value!r}")


def first_param(q: Query, name: str) -> Optional[str]:
    return q.get(name, [None])[0]


def archived_param(q: Query) -> bool:
    return (q.get("archived", ["false"])[0] or "false").lower() == "true"


def names_param(value: Any) -> Any:
    """A body's property list given as one comma-separated string, as a list (anything else as it is)."""
    if isinstance(value, str):
        return [p for p in value.split(",") if p]
    return value


# ------------------------------------------------------------------ batch answers
def internal_batch_error(ids: List[str]) -> Dict[str, Any]:
    """The error entry of inputs a batch read failed to read (quirk partial_batch_errors)."""
    return {"status": "error", "category": "INTERNAL_ERROR",
            "message": f"internal error, reference {cid()}: the inputs in context.ids could not be read; "
                       f"retry them",
            "context": {"ids": ids}}


def batch_response(results: List[Any], errors: List[Dict[str, Any]], started: str, completed: str) -> Response:
    """A batch read's answer: 200, or 207 with its errors."""
    out: Dict[str, Any] = {"status": "COMPLETE", "results": results}
    status = 200
    if errors:
        status = 207
        out["numErrors"] = len(errors)
        out["errors"] = errors
    out["startedAt"] = started
    out["completedAt"] = completed
    return Response(status, dumps(out))
