"""The two shapes the sandbox answers in: HubSpot's observed answers (the default) or its published documents'.

HubSpot's real answers differ from its OpenAPI documents in a few known ways, and the sandbox gives the observed
shape unless `answer_shape` is "documented" (`python -m sandbox --answer-shape documented`, or live with
``POST /_sandbox/config {"answer_shape": "documented"}``). Then every JSON answer of the API (never the control
plane's) is rewritten into the documented shape, so the connector can be shown to read both the same:

- a null where the documents allow absence is left out (record property values without a value, a v4 association
  type's `label`, v4 `paging.next.link`, an archived owner's `userId`, a history version's `sourceLabel` and
  `updatedByUserId`);
- a v4 association's `toObjectId` is a string, as the documents say, not a number;
- a batch error carries `errors` and `links` (required by the documents' StandardError) and its `subCategory` is an
  object (the documents' type), not text: `{"name": text}`;
- an error body carries `category` (required by the documents' Error): the token endpoint's code moves from `status`
  to `category`; a 429 gets `"RATE_LIMITS"`.

docs/hubspot-behaviour.md lists these differences and what the connector does about each.
"""
from __future__ import annotations

from typing import Any, Dict

OBSERVED = "observed"
DOCUMENTED = "documented"
SHAPES = (OBSERVED, DOCUMENTED)
RATE_LIMIT_CATEGORY = "RATE_LIMITS"


def shape_name(value: Any) -> str:
    """A setting's shape; ValueError for anything but the two names."""
    name = str(value or OBSERVED).strip().lower()
    if name not in SHAPES:
        raise ValueError(f"answer_shape must be one of {', '.join(SHAPES)}, got {value!r}")
    return name


def _documented_values(value: Any) -> Any:
    """Nulls left out of every object, `toObjectId` as text, batch errors completed (recursively)."""
    if isinstance(value, list):
        return [_documented_values(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: Dict[str, Any] = {}
    for key, item in value.items():
        if item is None:
            continue
        if key == "toObjectId" and isinstance(item, int) and not isinstance(item, bool):
            out[key] = str(item)
        elif key == "errors" and isinstance(item, list) and "results" in value:
            out[key] = [_documented_batch_error(error) for error in item]
        else:
            out[key] = _documented_values(item)
    return out


def _documented_batch_error(error: Any) -> Any:
    if not isinstance(error, dict):
        return error
    error = _documented_values(error)
    error.setdefault("errors", [])
    error.setdefault("links", {})
    if isinstance(error.get("subCategory"), str):
        error["subCategory"] = {"name": error["subCategory"]}
    return error


def documented(body: Any, status: int, token_endpoint: bool) -> Any:
    """One answer's body (parsed JSON) in the documented shape."""
    body = _documented_values(body)
    if not isinstance(body, dict) or 200 <= status < 300 or "category" in body:
        return body
    if token_endpoint and isinstance(body.get("status"), str):
        body["category"] = body.pop("status")
    elif status == 429:
        body["category"] = RATE_LIMIT_CATEGORY
    return body
