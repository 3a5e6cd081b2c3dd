"""HubSpot's published API contract, applied strictly to the answers the connector reads and the bodies it sends.

HubSpot publishes its API as OpenAPI documents; its Python client, hubspot-api-client (a test-only dependency,
pinned in setup.py), is generated from them: one model class per schema, with each field's type, its JSON name and,
in the setters, which fields are required and which values an enum allows. This module uses those models and nothing
copied from the documents.

The client itself is lenient where a test must not be: deserializing turns a number into text where the model says
text, ignores unknown fields and accepts null anywhere. So `answer_problems` and `request_problems` walk a body
against the models and report, as "path: what is wrong":

- a required field that is missing (the model's setter refuses None for it);
- a value of the wrong JSON type (text, integer, number, boolean, a date-time in ISO 8601, an object, a list);
- a null: the documents mark no field of these schemas nullable, so a value without a value is left out;
- a value an enum does not allow (the model's setter refuses it);
- in request bodies only, a field the model does not know (answers may carry more than the documents name: a client
  ignores what it does not know, and so does the connector);
- the limits HubSpot documents outside the schemas (`LIMITS`).

An answer the walk finds nothing wrong with is also deserialized by the client's own ApiClient, with client-side
validation on.

Endpoints are keyed on their kind (`endpoint_kind`), not on the version segment of the path: /crm/v3/objects/... and
/crm/objects/2026-03/... are the same kind with the same models.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import parse_qsl

# ------------------------------------------------------------------ endpoint kinds
_VERSION = r"(?:v\d+|\d{4}-\d{2}(?:-beta)?)"
_KINDS: List[Tuple[str, str, "re.Pattern[str]"]] = [
    ("POST", "token", re.compile(rf"^/oauth/{_VERSION}/token$")),
    ("POST", "associations_batch_read",
     re.compile(rf"^/crm/(?:v4/associations|associations/{_VERSION})/[^/]+/[^/]+/batch/read$")),
    ("GET", "association_labels",
     re.compile(rf"^/crm/(?:v4/associations|associations/{_VERSION}|associations/v4)/[^/]+/[^/]+/labels$")),
    ("POST", "search", re.compile(rf"^/crm/(?:{_VERSION}/objects|objects/{_VERSION})/[^/]+/search$")),
    ("POST", "batch_read", re.compile(rf"^/crm/(?:{_VERSION}/objects|objects/{_VERSION})/[^/]+/batch/read$")),
    ("GET", "list", re.compile(rf"^/crm/(?:{_VERSION}/objects|objects/{_VERSION})/[^/]+$")),
    ("GET", "record", re.compile(rf"^/crm/(?:{_VERSION}/objects|objects/{_VERSION})/[^/]+/[^/]+$")),
    ("GET", "properties", re.compile(rf"^/crm/(?:{_VERSION}/properties|properties/{_VERSION})/[^/]+$")),
    ("GET", "owners", re.compile(rf"^/crm/(?:{_VERSION}/owners|owners/{_VERSION})$")),
    ("GET", "pipelines", re.compile(rf"^/crm/(?:{_VERSION}/pipelines|pipelines/{_VERSION})/[^/]+$")),
]


def endpoint_kind(method: str, path: str) -> Optional[str]:
    """The kind of endpoint a request goes to ("search", "batch_read", ...), whatever its version segment; None for
    an endpoint this module has no contract for."""
    path = path.split("?", 1)[0].rstrip("/")
    for kind_method, kind, pattern in _KINDS:
        if method.upper() == kind_method and pattern.match(path):
            return kind
    return None


# ------------------------------------------------------------------ the client's models
@dataclass(frozen=True)
class Model:
    """One model class of hubspot-api-client: its package (`hubspot.crm.objects`) and its name."""

    package: str
    name: str

    @property
    def cls(self) -> type:
        return getattr(importlib.import_module(f"{self.package}.models"), self.name)

    def of(self, type_name: str) -> "Model":
        return Model(self.package, type_name)


OBJECTS = "hubspot.crm.objects"
ASSOCIATIONS = "hubspot.crm.associations.v4"
LABELS = "hubspot.crm.associations.v4.schema"
OAUTH = "hubspot.oauth"

# The model of each kind's successful answer, by status (the documents give 207 its own schema where it has one).
ANSWERS: Dict[str, Dict[int, Model]] = {
    "list": {200: Model(OBJECTS, "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging")},
    "record": {200: Model(OBJECTS, "SimplePublicObjectWithAssociations")},
    "search": {200: Model(OBJECTS, "CollectionResponseWithTotalSimplePublicObjectForwardPaging")},
    "batch_read": {200: Model(OBJECTS, "BatchResponseSimplePublicObject"),
                   207: Model(OBJECTS, "BatchResponseSimplePublicObjectWithErrors")},
    "associations_batch_read": {200: Model(ASSOCIATIONS, "BatchResponsePublicAssociationMultiWithLabel"),
                                207: Model(ASSOCIATIONS, "BatchResponsePublicAssociationMultiWithLabelWithErrors")},
    "association_labels": {200: Model(LABELS, "CollectionResponseAssociationSpecWithLabelNoPaging")},
    "properties": {200: Model("hubspot.crm.properties", "CollectionResponsePropertyNoPaging")},
    "owners": {200: Model("hubspot.crm.owners", "CollectionResponsePublicOwnerForwardPaging")},
    "pipelines": {200: Model("hubspot.crm.pipelines", "CollectionResponsePipelineNoPaging")},
    "token": {200: Model(OAUTH, "TokenResponseIF")},
}
# Every endpoint's error answer is the documents' Error (the same schema in every package).
ERRORS: Dict[str, Model] = {"token": Model(OAUTH, "Error")}
DEFAULT_ERROR = Model(OBJECTS, "Error")

REQUESTS: Dict[str, Model] = {
    "search": Model(OBJECTS, "PublicObjectSearchRequest"),
    "batch_read": Model(OBJECTS, "BatchReadInputSimplePublicObjectId"),
    "associations_batch_read": Model(ASSOCIATIONS, "BatchInputPublicFetchAssociationsBatchRequest"),
}

# HubSpot's documented limits that the schemas do not carry.
LIMITS = {
    # CRM search guide: at most 200 records a page, up to 5 filterGroups of up to 6 filters, 18 filters in all, and
    # no further than the 10,000th result.
    "search_limit": 200,
    "search_filter_groups": 5,
    "search_filters_per_group": 6,
    "search_filters": 18,
    "search_results": 10_000,
    # CRM objects batch read: 100 inputs; 50 when the body asks for propertiesWithHistory.
    "batch_read_inputs": 100,
    "batch_read_inputs_with_history": 50,
    # Associations v4 batch read: 1,000 inputs (HubSpot's 2025 changelog).
    "associations_batch_read_inputs": 1000,
}
# The search guide's operands of each filter operator (the schema makes all of them optional).
_NEEDS_VALUE = {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN", "BETWEEN"}
_NEEDS_VALUES = {"IN", "NOT_IN"}
_NO_OPERAND = {"HAS_PROPERTY", "NOT_HAS_PROPERTY"}
# The search guide (not the schema, which says text) writes a sort as {"propertyName", "direction"}; the connector
# sends that form, which HubSpot's search accepts. It is checked on its own and then as the schema's text.
SORT_DIRECTIONS = {"ASCENDING", "DESCENDING"}


def _configuration(package: str) -> Any:
    configuration = importlib.import_module(f"{package}.configuration").Configuration()
    configuration.client_side_validation = True
    return configuration


@functools.lru_cache(maxsize=None)
def _bare(model: Model) -> Any:
    """An instance of the model without its constructor, to call its validating setters one at a time."""
    instance = model.cls.__new__(model.cls)
    instance.local_vars_configuration = _configuration(model.package)
    return instance


@functools.lru_cache(maxsize=None)
def required_fields(model: Model) -> Tuple[str, ...]:
    """The JSON names of the fields the model requires: those its setter refuses None for."""
    cls, instance, names = model.cls, _bare(model), []
    for attribute in cls.openapi_types:
        try:
            setattr(instance, attribute, None)
        except ValueError:
            names.append(cls.attribute_map[attribute])
    return tuple(names)


def _refusal(model: Model, attribute: str, value: Any) -> Optional[str]:
    """Why the model's setter refuses this value (an enum, a pattern), or None."""
    try:
        setattr(_bare(model), attribute, value)
    except ValueError as error:
        return str(error)
    return None


_PRIMITIVES = {"str": str, "bool": bool}


def _type_problems(value: Any, type_name: str, model: Model, path: str, strict_fields: bool) -> List[str]:
    if value is None:
        return [f"{path}: null (the documents allow leaving it out, not null)"]
    if type_name.startswith("list["):
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__}, documented a list"]
        inner = type_name[5:-1]
        return [p for i, item in enumerate(value) for p in _type_problems(item, inner, model, f"{path}[{i}]", strict_fields)]
    if type_name.startswith("dict["):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, documented an object"]
        inner = type_name[5:-1].split(", ", 1)[1]
        return [p for k, item in value.items() for p in _type_problems(item, inner, model, f"{path}.{k}", strict_fields)]
    if type_name in _PRIMITIVES:
        ok = isinstance(value, _PRIMITIVES[type_name])
    elif type_name == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif type_name == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif type_name in ("datetime", "date"):
        if not isinstance(value, str):
            return [f"{path}: {type(value).__name__}, documented an ISO 8601 {type_name} text"]
        try:
            (datetime if type_name == "datetime" else date).fromisoformat(value)
        except ValueError:
            return [f"{path}: {value!r} is not an ISO 8601 {type_name}"]
        return []
    elif type_name == "object":  # the documents' `type: object` (StandardError.subCategory)
        ok = isinstance(value, dict)
        type_name = "an object"
    else:
        return model_problems(value, model.of(type_name), path, strict_fields)
    return [] if ok else [f"{path}: {type(value).__name__}, documented {type_name}"]


def model_problems(body: Any, model: Model, path: str = "", strict_fields: bool = False) -> List[str]:
    """What in `body` the model does not allow (see the module docstring); `strict_fields`: unknown fields too."""
    where = path or model.name
    if not isinstance(body, dict):
        return [f"{where}: {type(body).__name__}, documented an object ({model.name})"]
    cls = model.cls
    problems: List[str] = []
    json_names = {cls.attribute_map[a]: a for a in cls.openapi_types}
    for name in required_fields(model):
        if name not in body:
            problems.append(f"{path}.{name}: missing (required by {model.name})".lstrip("."))
    for name, value in body.items():
        field_path = f"{path}.{name}".lstrip(".")
        attribute = json_names.get(name)
        if attribute is None:
            if strict_fields:
                problems.append(f"{field_path}: not a field of {model.name}")
            continue
        type_name = cls.openapi_types[attribute]
        found = _type_problems(value, type_name, model, field_path, strict_fields)
        problems.extend(found)
        if not found and type_name in ("str", "int", "bool"):
            refusal = _refusal(model, attribute, value)
            if refusal:
                problems.append(f"{field_path}: {refusal}")
    return problems


def _client_problems(body: Any, model: Model) -> List[str]:
    """What the client's own deserialization (client-side validation on) refuses."""
    api_client = importlib.import_module(f"{model.package}.api_client").ApiClient(configuration=_configuration(model.package))
    try:
        api_client.deserialize(SimpleNamespace(data=json.dumps(body)), model.name)
    except Exception as error:  # the generated code raises ValueError, TypeError or its own ApiException
        return [f"{model.name}: the client refused it: {error}"]
    return []


def answer_model(kind: str, status: int) -> Optional[Model]:
    if status >= 400:
        return ERRORS.get(kind, DEFAULT_ERROR)
    return ANSWERS.get(kind, {}).get(status)


def answer_problems(kind: str, status: int, body: Any) -> List[str]:
    """What breaks the contract in one answer of this kind and status ([] when it is a documented answer). The
    client's own deserialization is asked only when the walk found nothing: it stops at its first refusal, which
    the walk has then already named."""
    model = answer_model(kind, status)
    if model is None:
        return [f"{kind}: HTTP {status} is not a documented answer"]
    return model_problems(body, model) or _client_problems(body, model)


# ------------------------------------------------------------------ request bodies
def _search_problems(body: Mapping[str, Any]) -> List[str]:
    problems: List[str] = []
    sorts = body.get("sorts")
    if isinstance(sorts, list):
        as_text = []
        for i, sort in enumerate(sorts):
            if isinstance(sort, dict):
                for key in sort:
                    if key not in ("propertyName", "direction"):
                        problems.append(f"sorts[{i}].{key}: not a field of a sort")
                if not isinstance(sort.get("propertyName"), str):
                    problems.append(f"sorts[{i}].propertyName: missing or not text")
                if "direction" in sort and sort["direction"] not in SORT_DIRECTIONS:
                    problems.append(f"sorts[{i}].direction: {sort['direction']!r}, documented one of {sorted(SORT_DIRECTIONS)}")
                as_text.append(str(sort.get("propertyName")))
            else:
                as_text.append(sort)
        body = {**body, "sorts": as_text}
    problems += model_problems(dict(body), REQUESTS["search"], strict_fields=True)
    limit = body.get("limit")
    if isinstance(limit, int) and not 1 <= limit <= LIMITS["search_limit"]:
        problems.append(f"limit: {limit}, documented 1 to {LIMITS['search_limit']}")
    after = body.get("after")
    if isinstance(after, str) and isinstance(limit, int):
        if not after.isdigit():
            problems.append(f"after: {after!r} is not an offset")
        elif int(after) + limit > LIMITS["search_results"]:
            problems.append(f"after + limit: {int(after) + limit}, beyond the {LIMITS['search_results']:,}th result")
    groups = body.get("filterGroups")
    if isinstance(groups, list):
        if len(groups) > LIMITS["search_filter_groups"]:
            problems.append(f"filterGroups: {len(groups)} groups, documented at most {LIMITS['search_filter_groups']}")
        total = 0
        for g, group in enumerate(groups):
            filters = group.get("filters") if isinstance(group, dict) else None
            if not isinstance(filters, list):
                continue
            total += len(filters)
            if len(filters) > LIMITS["search_filters_per_group"]:
                problems.append(f"filterGroups[{g}].filters: {len(filters)} filters, documented at most "
                                f"{LIMITS['search_filters_per_group']}")
            for f, condition in enumerate(filters):
                if isinstance(condition, dict):
                    problems += [f"filterGroups[{g}].filters[{f}].{p}" for p in _operand_problems(condition)]
        if total > LIMITS["search_filters"]:
            problems.append(f"filterGroups: {total} filters in all, documented at most {LIMITS['search_filters']}")
    return problems


def _operand_problems(condition: Mapping[str, Any]) -> List[str]:
    operator = condition.get("operator")
    if operator in _NEEDS_VALUE and "value" not in condition:
        return [f"value: missing, {operator} compares with one"]
    if operator == "BETWEEN" and "highValue" not in condition:
        return ["highValue: missing, BETWEEN needs one"]
    if operator in _NEEDS_VALUES and "values" not in condition:
        return [f"values: missing, {operator} needs a list"]
    if operator in _NO_OPERAND and any(k in condition for k in ("value", "values", "highValue")):
        return [f"{operator} takes no value"]
    return []


def _inputs_problems(body: Mapping[str, Any], limit: int) -> List[str]:
    inputs = body.get("inputs")
    if isinstance(inputs, list) and not 1 <= len(inputs) <= limit:
        return [f"inputs: {len(inputs)} inputs, documented 1 to {limit}"]
    return []


@functools.lru_cache(maxsize=None)
def token_form_fields() -> Tuple[str, ...]:
    """The form fields of the token endpoint: the parameters of the client's TokensApi.create (less the call options
    every generated method takes)."""
    from hubspot.oauth.api.tokens_api import TokensApi

    names = re.findall(r":param (\w+):", TokensApi.create.__doc__ or "")
    return tuple(n for n in names if not n.startswith("_") and n != "async_req")


GRANT_TYPES = {"authorization_code", "client_credentials", "refresh_token"}  # the OAuth document's grant_type enum
REFRESH_FORM = ("grant_type", "client_id", "client_secret", "refresh_token")


def _token_problems(form: str) -> List[str]:
    pairs = parse_qsl(form, keep_blank_values=True)
    fields = dict(pairs)
    problems = [f"{name}: not a field of the token form" for name, _ in pairs if name not in token_form_fields()]
    problems += [f"{name}: given {n} times" for name in fields if (n := [k for k, _ in pairs].count(name)) > 1]
    if fields.get("grant_type") not in GRANT_TYPES:
        problems.append(f"grant_type: {fields.get('grant_type')!r}, documented one of {sorted(GRANT_TYPES)}")
    elif fields["grant_type"] == "refresh_token":
        problems += [f"{name}: missing, a refresh needs it" for name in REFRESH_FORM if not fields.get(name)]
    return problems


def request_problems(kind: str, body: Any) -> List[str]:
    """What breaks the contract in one request body of this kind: a JSON body (parsed) or the token form (text)."""
    if kind == "token":
        return _token_problems(body.decode() if isinstance(body, bytes) else str(body or ""))
    if isinstance(body, (bytes, str)):
        body = json.loads(body)
    if not isinstance(body, dict):
        return [f"{kind}: the body is {type(body).__name__}, documented an object"]
    if kind == "search":
        return _search_problems(body)
    problems = model_problems(body, REQUESTS[kind], strict_fields=True)
    if kind == "batch_read":
        with_history = bool(body.get("propertiesWithHistory"))
        problems += _inputs_problems(body, LIMITS["batch_read_inputs_with_history" if with_history else "batch_read_inputs"])
    elif kind == "associations_batch_read":
        problems += _inputs_problems(body, LIMITS["associations_batch_read_inputs"])
    return problems
