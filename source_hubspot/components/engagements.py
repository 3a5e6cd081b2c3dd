"""The unified `engagements` stream: every activity type with the same columns."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple

from airbyte_cdk.sources.declarative.transformations.transformation import RecordTransformation

from source_hubspot import objects
from source_hubspot.components.values import _cast_datetime


# Per activity object: its engagement type and the properties that hold its subject and body.
ENGAGEMENT_KINDS: Dict[str, Tuple[str, Tuple[str, ...], Tuple[str, ...]]] = {
    "calls": ("CALL", ("hs_call_title",), ("hs_call_body",)),
    "emails": ("EMAIL", ("hs_email_subject",), ("hs_email_text", "hs_email_html")),
    "meetings": ("MEETING", ("hs_meeting_title",), ("hs_meeting_body",)),
    "notes": ("NOTE", (), ("hs_note_body",)),
    "tasks": ("TASK", ("hs_task_subject",), ("hs_task_body",)),
}

_COLUMNS: Dict[str, Any] = {
    "type": {"type": ["null", "string"]},
    "timestamp": {"type": ["null", "string"], "format": "date-time"},
    "ownerId": {"type": ["null", "string"]},
    "subject": {"type": ["null", "string"]},
    "body": {"type": ["null", "string"]},
}


def engagement_columns(associations: Iterable[str]) -> Dict[str, Any]:
    """The columns every activity has in the engagements table: one id array per associated object type, named
    by the registry (`ObjectType.association_column`: `contactIds`, ...), in place of the object streams' arrays."""
    columns = dict(_COLUMNS)
    for association in associations:
        column = objects.object_type(association).association_column
        columns[column] = {"type": ["null", "array"], "items": {"type": ["null", "string"]}}
    return columns


def _first_value(properties: Mapping[str, Any], names: Tuple[str, ...]) -> Any:
    for name in names:
        if properties.get(name) not in (None, ""):
            return properties[name]
    return None


@dataclass
class EngagementFields(RecordTransformation):
    """Gives every activity of the unified `engagements` stream the same columns whatever its type.

    CDK type that nearly fits: AddFields. The column that holds the subject or the body differs per activity type
    (hs_call_title, hs_email_subject, ...), chosen by the record's partition: a lookup AddFields could only spell as
    one Jinja branch per type.
    """

    config: Optional[Mapping[str, Any]] = None
    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
    ) -> None:
        object_type = (stream_slice or {}).get("object_type", "")
        kind, subject_names, body_names = ENGAGEMENT_KINDS.get(object_type, (object_type.upper(), (), ()))
        properties = record.get("properties") or {}
        record["type"] = kind
        record["timestamp"] = _cast_datetime(properties["hs_timestamp"]) if properties.get("hs_timestamp") else None
        owner = properties.get("hubspot_owner_id")
        record["ownerId"] = None if owner in (None, "") else str(owner)
        record["subject"] = _first_value(properties, subject_names)
        record["body"] = _first_value(properties, body_names)
        entry = objects.OBJECT_TYPES.get(object_type)
        for association in entry.associations if entry is not None else ():
            if association in record:
                record[objects.object_type(association).association_column] = record.pop(association)
