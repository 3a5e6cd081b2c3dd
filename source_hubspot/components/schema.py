"""Stream schemas from HubSpot's properties API: typed, nested under `properties` and flattened."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, Dict, List, Mapping, Optional

from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.schema.schema_loader import SchemaLoader

from source_hubspot import objects
from source_hubspot.components.engagements import engagement_columns
from source_hubspot.components.memos import PropertyDefinitions


_NULLABLE_STRING = {"type": ["null", "string"]}


def json_schema_for_property(hubspot_type: str) -> Dict[str, Any]:
    """JSON-schema type for a HubSpot property type; unknown types fall back to string."""
    if hubspot_type == "number":
        return {"type": ["null", "number"]}
    if hubspot_type == "bool":
        return {"type": ["null", "boolean"]}
    if hubspot_type == "datetime":
        return {"type": ["null", "string"], "format": "date-time"}
    if hubspot_type == "date":
        return {"type": ["null", "string"], "format": "date"}
    return dict(_NULLABLE_STRING)


def flat_column(name: str) -> str:
    """The top-level column that repeats a property's value (`properties_<name>`)."""
    return f"properties_{name}"


def build_object_schema(properties: List[Mapping[str, Any]], associations: List[str]) -> Dict[str, Any]:
    property_schemas = {
        prop["name"]: json_schema_for_property(str(prop.get("type", "string")))
        for prop in properties
        if prop.get("name")
    }
    columns: Dict[str, Any] = {
        "id": {"type": ["null", "string"]},
        "createdAt": {"type": ["null", "string"], "format": "date-time"},
        "updatedAt": {"type": ["null", "string"], "format": "date-time"},
        "archived": {"type": ["null", "boolean"]},
        "archivedAt": {"type": ["null", "string"], "format": "date-time"},
        "properties": {"type": ["null", "object"], "additionalProperties": True, "properties": property_schemas},
    }
    for name, schema in property_schemas.items():
        columns[flat_column(name)] = schema
    for to_type in associations:
        columns[to_type] = {"type": ["null", "array"], "items": {"type": ["null", "string"]}}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": ["null", "object"],
        "additionalProperties": True,
        "properties": columns,
    }


@dataclass
class HubspotPropertiesSchemaLoader(SchemaLoader):
    """Builds the stream schema from HubSpot's properties API: typed, nested and flattened.

    CDK type that nearly fits: DynamicSchemaLoader, which produces a flat schema and fails on unmapped types;
    HubSpot streams need the values both nested under `properties` and flattened as `properties_<name>`,
    association arrays (the registry's, objects.py), and a string fallback for any type HubSpot adds later.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    requester: HttpRequester
    engagement_columns: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.object_types: List[str] = list(parameters.get("object_types") or [parameters["object_type"]])
        associated = (name for object_type in self.object_types for name in objects.object_type(object_type).associations)
        self.associations = list(dict.fromkeys(associated))
        self._schema: Optional[Dict[str, Any]] = None

    def get_json_schema(self) -> Mapping[str, Any]:
        # One schema object per stream: the caster keys its per-property table on it.
        if self._schema is None:
            definitions: Dict[str, Mapping[str, Any]] = {}
            for properties in PropertyDefinitions.get_each(self.requester, self.object_types):
                for prop in properties:
                    definitions.setdefault(prop["name"], prop)
            self._schema = build_object_schema(list(definitions.values()), self.associations)
            if self.engagement_columns:
                for association in self.associations:
                    self._schema["properties"].pop(association, None)
                self._schema["properties"].update(engagement_columns(self.associations))
        return self._schema
