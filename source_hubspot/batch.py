"""HubSpot's batch answers, read once for every batch reader (records, association ids, links, history).

- **Partial batch answers.** A 207 batch answer lists the inputs it could not read in `errors`; only a
  not-found error means an id is gone (or has no associations). Every other error's ids are read again, with
  backoff, and a read that still fails stops the stream naming HubSpot's category and the ids (`read_batch`).
- **v4 association reads.** Up to ASSOCIATION_BATCH_SIZE inputs a call; each result pages its own targets with
  `paging.next.after`, followed until HubSpot gives none (`association_results`).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, MutableMapping, Optional, Set, Tuple

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot.api import next_after, parse_body, repeated_cursor_error
from source_hubspot.constants import ASSOCIATION_BATCH_SIZE

logger = logging.getLogger("airbyte")


class BodyList(list):  # type: ignore[type-arg]
    """A list in a request body that the CDK's request-option merging hands on as it is. The merging deep-copies
    every value it merges: ~1,600 copy steps for a wide search page's property names and its association reads'
    ids, ~1 ms of CPU a page. Nothing changes such a list once built (an object's property names are one list for
    the whole run), so handing on the same list is safe."""

    def __deepcopy__(self, memo: Dict[int, Any]) -> BodyList:
        return self



def association_from_id(result: Mapping[str, Any]) -> str:
    """The id of the record a v4 association result belongs to (`from.id`)."""
    source = result.get("from")
    return str(source.get("id")) if isinstance(source, Mapping) else "None"


def follow_result_paging(result: Mapping[str, Any], from_id: str, followed: Set[Tuple[str, str]], endpoint: str) -> Optional[Dict[str, str]]:
    """The input that reads the next page of one v4 association result (`{"id", "after"}`), or None on its last
    page; a cursor the same record's result gave before is a loop."""
    after = next_after(result)
    if after is None:
        return None
    if (from_id, after) in followed:
        raise repeated_cursor_error(f"{endpoint} (the associations of {from_id})", after)
    followed.add((from_id, after))
    return {"id": from_id, "after": after}


# Errors of a batch answer that say an input has nothing to return: the record is gone (deleted since it was
# listed), or it has no associations of that type. Any other error is a failure to read that input.
NOT_FOUND_CATEGORIES = frozenset({"OBJECT_NOT_FOUND", "NOT_FOUND"})
# How often the inputs an error names are read again, with exponential backoff, before the stream fails.
BATCH_RETRIES = 5


def _error_ids(error: Mapping[str, Any]) -> List[str]:
    """The input ids a batch error names: HubSpot puts them in `context.ids` (object batch reads) or
    `context.fromObjectId` (v4 association reads); any list in `context` is taken."""
    context = error.get("context")
    ids: List[str] = []
    if isinstance(context, Mapping):
        for value in context.values():
            if isinstance(value, list):
                ids.extend(str(v) for v in value)
    return ids


def _failures(body: Mapping[str, Any], asked: Iterable[str], answered: Set[str]) -> Dict[str, Tuple[str, str]]:
    """id -> (category, message) of the errors of one batch answer that failed an input. A not-found error only
    clears the ids it names; an error of another category that names no ids fails every input without a result
    that no not-found error named."""
    failed: Dict[str, Tuple[str, str]] = {}
    gone: Set[str] = set()
    unnamed: List[Tuple[str, str]] = []
    for error in body.get("errors") or []:
        if not isinstance(error, Mapping):
            continue
        category = str(error.get("category") or error.get("status") or "UNKNOWN")
        cause = (category, str(error.get("message") or "no message"))
        ids = _error_ids(error)
        if category in NOT_FOUND_CATEGORIES:
            gone.update(ids)
        elif ids:
            for object_id in ids:
                failed.setdefault(object_id, cause)
        else:
            unnamed.append(cause)
    if unnamed:
        for object_id in asked:
            if object_id not in answered and object_id not in gone:
                failed.setdefault(object_id, unnamed[0])
    return {i: cause for i, cause in failed.items() if i not in answered and i not in gone}


def read_batch(
    send: Callable[[List[Dict[str, Any]]], requests.Response],
    inputs: List[Dict[str, Any]],
    result_id: Callable[[Mapping[str, Any]], str],
    what: str,
    backoff_seconds: float = 1.0,
    parse: Optional[Callable[[requests.Response], Any]] = None,
) -> List[MutableMapping[str, Any]]:
    """Every result of one batch read of `inputs` (each `{"id": ...}`, perhaps with more keys): inputs that a 207
    answer failed are sent again, alone, until HubSpot reads them or BATCH_RETRIES are spent, and then the stream
    fails with HubSpot's category and the ids. Inputs HubSpot reports not found have no result."""
    parse = parse or parse_body
    results: List[MutableMapping[str, Any]] = []
    pending = list(inputs)
    attempt = 0
    while pending:
        response = send(pending)
        body = parse(response) if response is not None else {}
        body = body if isinstance(body, Mapping) else {}
        answered: Set[str] = set()
        for result in body.get("results") or []:
            if isinstance(result, MutableMapping):
                results.append(result)
                answered.add(result_id(result))
        failed = _failures(body, (str(i["id"]) for i in pending), answered)
        if not failed:
            return results
        attempt += 1
        causes = "; ".join(f"{category}: {message}" for category, message in sorted(set(failed.values())))
        ids = sorted(failed)
        if attempt > BATCH_RETRIES:
            shown = ", ".join(ids[:20]) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
            raise AirbyteTracedException(
                message=(
                    f"HubSpot could not read {what} ({causes}) for {len(ids)} id(s), again after {BATCH_RETRIES} "
                    f"retries: {shown}. The sync stopped rather than emit those records incomplete; its state was "
                    "not moved past them. Run it again later; if it persists, report it to HubSpot support with "
                    "these ids."
                ),
                internal_message=f"batch errors: {list(body.get('errors') or [])[:3]!r}",
                failure_type=FailureType.transient_error,
            )
        logger.info(
            f"HubSpot could not read {what} for {len(ids)} id(s) in a batch ({causes}); reading them "
            f"again (retry {attempt} of {BATCH_RETRIES})."
        )
        time.sleep(backoff_seconds * (2 ** (attempt - 1)))
        pending = [i for i in pending if str(i["id"]) in failed]
    return results


def association_results(
    requester: Any, path: str, ids: Iterable[str], what: str, backoff_seconds: float = 1.0
) -> Iterator[MutableMapping[str, Any]]:
    """Every result of the v4 association batch reads (`POST {path}`) of `ids`, ASSOCIATION_BATCH_SIZE inputs a
    call, each result's own `paging.next.after` followed (a cursor a result gives twice fails the read); inputs a
    207 answer failed are read again (`read_batch`). `requester` is a CDK requester (auth, retries, budget)."""
    pending: List[Dict[str, Any]] = [{"id": object_id} for object_id in ids]
    followed: Set[Tuple[str, str]] = set()

    def send(inputs: List[Dict[str, Any]]) -> requests.Response:
        return requester.send_request(path=path, request_body_json={"inputs": BodyList(inputs)}, log_formatter=None)

    while pending:
        batch, pending = pending[:ASSOCIATION_BATCH_SIZE], pending[ASSOCIATION_BATCH_SIZE:]
        for result in read_batch(send, batch, association_from_id, what, backoff_seconds):
            yield result
            following = follow_result_paging(result, association_from_id(result), followed, f"POST {path}")
            if following is not None:
                pending.append(following)


def read_association_ids(requester: Any, path: str, ids: List[str], backoff_seconds: float = 1.0) -> Dict[str, List[str]]:
    """All ids associated with each of `ids` through one v4 batch-read path (`association_results`), each id once."""
    linked: Dict[str, Dict[str, None]] = {}
    for result in association_results(requester, path, ids, f"the associations at {path}", backoff_seconds):
        targets = linked.setdefault(association_from_id(result), {})
        for target in result.get("to") or []:
            targets.setdefault(str(target.get("toObjectId")))
    return {from_id: list(targets) for from_id, targets in linked.items()}
