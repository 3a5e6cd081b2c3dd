"""RECORD lines are written by a shortcut around the CDK's serializer; they must be the very same lines."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, AirbyteStateMessage, Type

from source_hubspot.run import _cdk_message_to_string, _message_to_string


@pytest.mark.parametrize("namespace", [None, "hubspot"])
@pytest.mark.parametrize(
    "data",
    [
        {"id": "1", "properties": {"city": None, "amount": 12.5}, "properties_amount": 12.5, "archivedAt": None},
        {"id": "2", "companies": ["7", "8"], "nested": {"deep": [None, {"x": None}]}},
        {},
    ],
)
def test_given_a_record_when_serialized_then_the_line_equals_the_cdks(data, namespace):
    message = AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream="contacts", data=data, emitted_at=1700000000000, namespace=namespace))
    assert _message_to_string(message) == _cdk_message_to_string(message)


def test_given_other_messages_when_serialized_then_the_cdk_writes_them():
    message = AirbyteMessage(type=Type.STATE, state=AirbyteStateMessage(data={"contacts": {"updatedAt": "2024-01-01"}}))
    assert _message_to_string(message) == _cdk_message_to_string(message)
