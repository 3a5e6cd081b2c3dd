"""HubSpot's API for requests-mock: its answers, and the matchers that pick the connector's requests back out of a
mock's history.

Every answer starts from a body in testkit/responses/ (HubSpot's documented shapes, one file per answer); the
builders here put a test's records into it, so a test names only what it is about and every answer keeps the
fields HubSpot sends with it.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from testkit.connector import ACCESS_TOKEN, REFRESH_TOKEN

API = "https://api.hubapi.com"
TOKEN_URL = f"{API}/oauth/v1/token"
RESPONSES = Path(__file__).resolve().with_name("responses")


@functools.lru_cache(maxsize=None)
def _parsed(name: str) -> Any:
    return json.loads((RESPONSES / f"{name}.json").read_text())


def response(name: str) -> Dict[str, Any]:
    """A fresh copy of testkit/responses/<name>.json, free to change."""
    return copy.deepcopy(_parsed(name))


# ----------------------------------------------------------------------------------------------------------------
# Records and property definitions
# ----------------------------------------------------------------------------------------------------------------

UPDATED = "2024-05-01T10:00:00.123Z"

# The contacts' property definitions the unit tests mock: one of each HubSpot type the caster handles.
CONTACT_PROPERTIES = [
    ("email", "string"),
    ("num_notes", "number"),
    ("hs_email_optout", "bool"),
    ("date_of_birth", "date"),
    ("lastmodifieddate", "datetime"),
    ("createdate", "datetime"),
    ("hs_object_id", "number"),
    ("location", "object_coordinates"),
]
# HubSpot's form field for each property type (the connector reads only `name` and `type`).
_FIELD_TYPES = {"number": "number", "bool": "booleancheckbox", "date": "date", "datetime": "date", "enumeration": "select"}


def properties_body(names_and_types: Iterable[tuple]) -> Dict[str, Any]:
    """The properties API's answer (GET /crm/v3/properties/{type}) defining these (name, type) pairs."""
    template = response("properties")["results"][0]
    results = []
    for name, kind in names_and_types:
        definition = copy.deepcopy(template)
        definition.update(name=name, label=name, type=kind, fieldType=_FIELD_TYPES.get(kind, "text"), description="")
        results.append(definition)
    return {"results": results}


def record(record_id: Any, updated: str = UPDATED, **properties: Any) -> Dict[str, Any]:
    """A CRM record as search and the object lists return it, with only the properties named (and hs_object_id)."""
    return {
        "id": str(record_id),
        "properties": {"hs_object_id": str(record_id), **properties},
        "createdAt": "2023-01-01T00:00:00Z",
        "updatedAt": updated,
        "archived": False,
    }


def contact(record_id: int, updated: str = UPDATED, **props: Any) -> Dict[str, Any]:
    """A contact with a value for each of CONTACT_PROPERTIES; `props` overrides them."""
    properties = {
        "email": f"c{record_id}@example.com",
        "num_notes": "3",
        "hs_email_optout": "false",
        "date_of_birth": "1990-02-03",
        "lastmodifieddate": updated,
        "createdate": "2023-01-01T00:00:00Z",
        "location": None,
    }
    properties.update(props)
    return record(record_id, updated, **properties)


def owner(owner_id: Any, **fields: Any) -> Dict[str, Any]:
    """An owner as GET /crm/v3/owners returns it."""
    return {**response("owners_page")["results"][0], "id": str(owner_id), **fields}


# ----------------------------------------------------------------------------------------------------------------
# Pages
# ----------------------------------------------------------------------------------------------------------------


def search_page(records: List[Dict[str, Any]], more: bool = False, total: Optional[int] = None,
                after: Optional[str] = None) -> Dict[str, Any]:
    """A search answer: HubSpot's `total` (the page's length unless given), the records and, with `more`, the
    next page's offset (`after`, the page's length unless given)."""
    body = response("search_page" if more else "search_last_page")
    body["total"] = total if total is not None else len(records)
    body["results"] = records
    if more:
        cursor = after if after is not None else str(len(records))
        body["paging"]["next"] = {"after": cursor, "link": f"?after={cursor}"}
    return body


def empty_search_page(total: int = 0) -> Dict[str, Any]:
    """A search answer without records; also the completeness check's count (its `total`)."""
    return search_page([], total=total)


def list_page(records: List[Dict[str, Any]], after: Optional[str] = None) -> Dict[str, Any]:
    """An object list's answer (GET /crm/v3/objects/{type}) and, with `after`, the next page's cursor."""
    body = response("list_page_with_associations")
    body["results"] = records
    if after is None:
        del body["paging"]
    else:
        link = body["paging"]["next"]["link"]
        body["paging"]["next"] = {"after": after, "link": link[: link.rindex("after=")] + f"after={after}"}
    return body


def owners_page(owners: List[Dict[str, Any]], after: Optional[str] = None) -> Dict[str, Any]:
    """GET /crm/v3/owners's answer and, with `after`, the next page's cursor."""
    body = response("owners_page")
    body["results"] = owners
    if after is None:
        del body["paging"]
    else:
        body["paging"]["next"] = {"after": after, "link": f"{API}/crm/v3/owners/?after={after}"}
    return body


# ----------------------------------------------------------------------------------------------------------------
# Batch reads: v3 objects (property history) and v4 associations
# ----------------------------------------------------------------------------------------------------------------


def batch_read(results: List[Dict[str, Any]]) -> Dict[str, Any]:
    """A batch read's 200 answer with these results."""
    body = response("batch_read")
    body["results"] = results
    return body


def batch_read_partial(results: List[Dict[str, Any]], failed_ids: Sequence[str], category: str = "OBJECT_NOT_FOUND",
                       message: Optional[str] = None) -> Dict[str, Any]:
    """A batch read's 207 answer: these results, and one error of `category` naming `failed_ids`."""
    body = response("batch_read_207")
    body["results"] = results
    error = body["errors"][0]
    error["category"] = category
    error["context"] = {"ids": list(failed_ids)}
    if message is not None:
        error["message"] = message
    return body


def with_errors(body: Dict[str, Any], *errors: Dict[str, Any]) -> Dict[str, Any]:
    """`body` (a batch answer) with these entries as its errors, e.g. errors that name no ids."""
    body["errors"] = [{"status": "error", **error} for error in errors]
    body["numErrors"] = len(errors)
    return body


def deal_splits(deal_id: Any, *shares: Tuple[str, str], **more: Any) -> Dict[str, Any]:
    """One result of a deal splits batch read: the deal and one split per (percentage, owner id) in `shares`, with
    `more` properties on each, in the shape of responses/deal_splits_batch_read.json."""
    template = response("deal_splits_batch_read")["results"][0]["splits"][0]
    splits = [{**copy.deepcopy(template), "id": f"{deal_id}{n:02d}",
               "properties": {"hs_deal_split_percentage": share, "hubspot_owner_id": owner_id, **more}}
              for n, (share, owner_id) in enumerate(shares, 1)]
    return {"id": str(deal_id), "splits": splits}


def deal_splits_batch(results: List[Dict[str, Any]]) -> Dict[str, Any]:
    """A deal splits batch read's answer (POST /crm/v3/objects/deals/splits/batch/read)."""
    body = response("deal_splits_batch_read")
    body["results"] = results
    return body


def associated(from_id: Any, to_ids: Iterable[int], types: Optional[List[Dict[str, Any]]] = None,
               after: Optional[str] = None) -> Dict[str, Any]:
    """One result of a v4 association batch read: `from_id` and the ids it is linked to (numbers, as HubSpot gives
    them), each with `types` (HubSpot's primary and unlabelled types unless given), and the cursor of the rest."""
    if types is None:
        types = response("associations_batch_read")["results"][0]["to"][0]["associationTypes"]
    result: Dict[str, Any] = {
        "from": {"id": str(from_id)},
        "to": [{"toObjectId": to_id, "associationTypes": copy.deepcopy(types)} for to_id in to_ids],
    }
    if after is not None:
        result["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
    return result


def associations_batch(results: List[Dict[str, Any]]) -> Dict[str, Any]:
    """A v4 association batch read's answer (POST /crm/v4/associations/{from}/{to}/batch/read)."""
    body = response("associations_batch_read")
    body["results"] = results
    return body


# ----------------------------------------------------------------------------------------------------------------
# Errors and the token endpoint
# ----------------------------------------------------------------------------------------------------------------

INVALID_AUTHENTICATION = response("error_401_invalid_authentication")
EXPIRED_AUTHENTICATION = response("error_401_expired_authentication")
NO_API_ACCESS = response("error_403_no_api_access")
TEN_SECONDLY_LIMIT = response("error_429_ten_secondly_rolling")
DAILY_LIMIT = response("error_429_daily")
INTERNAL_ERROR = response("error_500_internal")
BAD_REFRESH_TOKEN = response("oauth_error_bad_refresh_token")
BAD_CLIENT_ID = response("oauth_error_bad_client_id")
BAD_CLIENT_SECRET = response("oauth_error_bad_client_secret")


def missing_scopes(scope: str = "crm.objects.contacts.read", legacy: bool = False, documented: bool = False) -> Dict[str, Any]:
    """403 MISSING_SCOPES naming `scope`: as HubSpot answers (errors[0].context.requiredGranularScopes), the older
    form (`legacy`: requiredScopes), or the shape of HubSpot's reference examples (`documented`: a top-level
    context.missingScopes)."""
    body = response("error_403_missing_scopes")
    if documented:
        del body["errors"]
        body["context"] = {"missingScopes": [scope]}
        return body
    body["errors"][0]["context"] = {"requiredScopes" if legacy else "requiredGranularScopes": [scope]}
    return body


def schema(type_id: str, name: str, plural: str = "", associated: Sequence[str] = (), portal: int = 9876543,
           properties: Optional[Sequence[tuple]] = None) -> Dict[str, Any]:
    """One custom object schema as GET /crm/v3/schemas lists it: type id `2-...`, `name`, labels, the properties
    (name, type) (default: the fixture's, which hold hs_object_id and hs_lastmodifieddate) and association
    definitions to the type ids `associated`."""
    body = response("schemas")["results"][0]
    number = type_id.split("-", 1)[1]
    body.update(id=number, objectTypeId=type_id, name=name, fullyQualifiedName=f"p{portal}_{name}")
    body["labels"] = {"singular": (plural or name).rstrip("s"), "plural": plural or name}
    template = body["associations"][0]
    body["associations"] = [{**template, "id": str(200 + i), "fromObjectTypeId": type_id, "toObjectTypeId": other,
                             "name": f"{name}_to_{other}"} for i, other in enumerate(associated)]
    if properties is not None:
        body["properties"] = properties_body(properties)["results"]
    return body


def schemas_body(*schemas: Dict[str, Any]) -> Dict[str, Any]:
    """GET /crm/v3/schemas's answer: every custom object schema, no paging."""
    return {"results": list(schemas)}


def mock_no_custom_objects(requests_mock, api: str = API) -> None:
    """A portal without custom objects: discover's schemas call answers an empty list."""
    requests_mock.get(f"{api}/crm/v3/schemas", json=schemas_body())


def validation_error(message: Optional[str] = None) -> Dict[str, Any]:
    """400 VALIDATION_ERROR, with HubSpot's message or this one."""
    body = response("error_400_validation_error")
    if message is not None:
        body["message"] = message
    return body


def token_response(access_token: str = ACCESS_TOKEN, refresh_token: Optional[str] = REFRESH_TOKEN,
                   expires_in: int = 1800) -> Dict[str, Any]:
    """The token endpoint's answer to a refresh; without `refresh_token` when it is None."""
    body = response("oauth_token")
    body.update(access_token=access_token, refresh_token=refresh_token, expires_in=expires_in)
    if refresh_token is None:
        del body["refresh_token"]
    return body


# ----------------------------------------------------------------------------------------------------------------
# Mocks
# ----------------------------------------------------------------------------------------------------------------


def is_count(request: Any) -> bool:
    """A completeness check's search (source_hubspot/search.count_body): limit 1, a window's two bounds, no id filter."""
    body = json.loads(request.body) if request.body else {}
    filters = [f for group in body.get("filterGroups") or [] for f in group.get("filters") or []]
    operators = {f.get("operator") for f in filters}
    return (body.get("limit") == 1 and {"GTE", "LTE"} <= operators
            and not any(f.get("propertyName") == "hs_object_id" for f in filters))


def mock_search(requests_mock, object_type: str, pages: Any, count: int = 0, api: str = API) -> None:
    """Search pages (a requests-mock response list) and, apart from them, the completeness check's count."""
    url = f"{api}/crm/v3/objects/{object_type}/search"
    requests_mock.post(url, pages, additional_matcher=lambda request: not is_count(request))
    requests_mock.post(url, json=empty_search_page(total=count), additional_matcher=is_count)


def no_associations(requests_mock, from_type: str, to_types: Iterable[str], api: str = API) -> None:
    for to_type in to_types:
        requests_mock.post(f"{api}/crm/v4/associations/{from_type}/{to_type}/batch/read", json=associations_batch([]))


def mock_contacts(requests_mock, search: Any = None, api: str = API, count: int = 0, listed: Any = None) -> None:
    """Properties, search (one contact unless `search` is a requests-mock response list), the list (`listed`, the
    same one contact unless given), the completeness check's count (`count`) and empty associations."""
    requests_mock.get(f"{api}/crm/v3/properties/contacts", json=properties_body(CONTACT_PROPERTIES))
    requests_mock.get(f"{api}/crm/v3/objects/contacts", listed or [{"json": {"results": [contact(1)]}}])
    mock_search(requests_mock, "contacts", search or [{"json": search_page([contact(1)])}], count, api)
    no_associations(requests_mock, "contacts", ("companies", "deals", "tickets"), api)


def mock_missing_scope(requests_mock, failing: str, legacy: bool, scope: str = "crm.objects.contacts.read") -> None:
    """Contacts mocks where the properties GET or the search POST answers 403 MISSING_SCOPES."""
    mock_contacts(requests_mock)
    body = missing_scopes(scope, legacy=legacy)
    if failing == "properties":
        requests_mock.get(f"{API}/crm/v3/properties/contacts", status_code=403, json=body)
    else:
        requests_mock.post(f"{API}/crm/v3/objects/contacts/search", status_code=403, json=body)


# ----------------------------------------------------------------------------------------------------------------
# What reached HubSpot
# ----------------------------------------------------------------------------------------------------------------


def api_requests(requests_mock) -> List[Any]:
    """Every request that reached HubSpot's API, token requests left out."""
    return [r for r in requests_mock.request_history if "/oauth/" not in r.path]


def token_requests(requests_mock) -> List[Any]:
    return [r for r in requests_mock.request_history if "/oauth/" in r.path]


def search_requests(requests_mock) -> List[Any]:
    """The search pages read (completeness counts left out: count_requests)."""
    return [r for r in requests_mock.request_history if r.path.endswith("/search") and not is_count(r)]


def count_requests(requests_mock) -> List[Any]:
    return [r for r in requests_mock.request_history if r.path.endswith("/search") and is_count(r)]


def request_bodies(requests_mock, path_suffix: str) -> List[Dict[str, Any]]:
    """The JSON bodies sent to paths ending in `path_suffix`, in order."""
    return [json.loads(r.body) for r in requests_mock.request_history if r.path.endswith(path_suffix) and r.body]
