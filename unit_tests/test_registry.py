"""The object registry (source_hubspot/objects.py) is the one place of an object type's facts: the manifest's
streams name an object type and nothing else, and the spec's shown defaults agree with the registry."""

from __future__ import annotations

from source_hubspot import objects
from source_hubspot.source import load_manifest


def test_given_the_manifest_when_its_object_streams_are_read_then_each_names_only_its_type():
    definitions = load_manifest()["definitions"]
    entries = {key: d for key, d in definitions.items() if isinstance(d, dict) and d.get("$ref") == "#/definitions/object_stream"}
    single = {d["name"]: d for d in entries.values()}
    assert {d["$parameters"]["object_type"] for d in single.values()} == {t.name for t in objects.OBJECT_TYPES.values()}
    for name, definition in single.items():
        assert set(definition) == {"$ref", "name", "$parameters"}, name
        assert definition["$parameters"] == {"name": name, "object_type": definition["$parameters"]["object_type"]}
        assert objects.object_type(definition["$parameters"]["object_type"]).stream == name
    assert definitions["engagements_stream"]["$parameters"]["object_types"] == objects.activity_types()


def test_given_the_spec_when_history_defaults_are_shown_then_they_are_the_registrys():
    properties = load_manifest()["spec"]["connection_specification"]["properties"]
    for object_type in ("contacts", "companies", "deals"):
        shown = properties[f"{object_type}_history_properties"]["default"]
        assert shown == list(objects.object_type(object_type).history_defaults), object_type
