"""The error handler of every request, and how the manifest's missing-scope filter is recognised."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import (
    SUCCESS_RESOLUTION,
    ErrorResolution,
    ResponseAction,
)
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot.api import parse_body, path_of
from source_hubspot.progress import ApiCalls


def is_missing_scope(error: AirbyteTracedException) -> bool:
    """The manifest's MISSING_SCOPES filter wrote this error (its message starts the same way every time)."""
    return "token lacks the scope" in (error.message or "")


@dataclass
class HubspotErrorHandler(DefaultErrorHandler):
    """The manifest's error filters, plus one rule for successful answers: a 2xx must carry a `results` list.
    CDK type that nearly fits: DefaultErrorHandler (this is one, with that rule added).

    Every HubSpot endpoint this connector reads answers 2xx with `results`; an empty, truncated or non-JSON 2xx body
    is a HubSpot-side fault worth retrying, which no filter can say without its predicate (a filter matches on
    status code OR predicate). And a filter with a predicate re-parses every response body, a full extra JSON
    parse of every wide page per filter; deciding 2xx answers here uses the body the decoder parses anyway.
    """

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        # A requester named after its stream counts its calls for that stream; the manifest's helper requesters carry
        # an unrendered name template and count for the stream their thread is reading.
        name = str((parameters or {}).get("name") or "")
        self._stream = name if name and "{{" not in name else None

    def interpret_response(self, response_or_exception: Any) -> ErrorResolution:
        ApiCalls.count(response_or_exception, self._stream)  # once per attempt: the sync report's calls and retries
        if isinstance(response_or_exception, requests.Response) and 200 <= response_or_exception.status_code < 300:
            body = parse_body(response_or_exception)
            if isinstance(body, dict) and isinstance(body.get("results"), list):
                return SUCCESS_RESOLUTION
            return ErrorResolution(
                response_action=ResponseAction.RETRY,
                failure_type=FailureType.transient_error,
                error_message=(
                    f"HubSpot answered {response_or_exception.request.method} {path_of(response_or_exception)} with "
                    f"HTTP {response_or_exception.status_code} but an empty, truncated or unreadable body (no 'results' "
                    "list), again after every retry. This is a HubSpot-side fault; run the sync again later (it resumes "
                    "from its last state)."
                ),
            )
        return super().interpret_response(response_or_exception)
