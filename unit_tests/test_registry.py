"""The object registry (source_hubspot/objects.py) is the one place of an object type's facts: the manifest's
streams name an object type and nothing else, the spec's shown defaults agree with the registry, and the analyst
tables' pairs and history streams follow it (a type registered later is covered, the shipped types' pairs stay)."""

from __future__ import annotations

from source_hubspot import objects
from source_hubspot.components.analyst_history import ADDED_HISTORY_KEY, HistoryStreams, history_choice
from source_hubspot.source import load_manifest
from testkit.analyst_truth import LINK_TARGETS


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


# Types registered after the shipped ones, as the standard and custom objects are: one naming a core type, one naming
# it and a core type, neither named back by the core entries.
# (HubSpot's projects object is not in the registry: unregistering it leaves the shipped registry as it was.)
PROJECTS = objects.ObjectType(name="projects", type_id="0-970", singular="project", stream="projects",
                              scope="crm.objects.projects.read", associations=("deals",))
CARS = objects.ObjectType(name="p_cars", type_id="2-9001", singular="car", stream="custom_cars",
                          scope="crm.objects.custom.read", associations=("contacts", "projects"))


def test_given_the_shipped_registry_when_link_pairs_are_listed_then_they_are_the_benchs_26_pairs():
    assert objects.link_targets() == LINK_TARGETS
    assert sum(len(targets) for targets in LINK_TARGETS.values()) == 26


def test_given_registered_types_when_link_pairs_are_listed_then_each_of_their_pairs_once_and_the_others_unchanged():
    assert "projects" not in objects.OBJECT_TYPES
    objects.register(PROJECTS)
    objects.register(CARS)
    try:
        targets = objects.link_targets()
    finally:
        objects.unregister("p_cars")
        objects.unregister("projects")
    assert {k: v for k, v in targets.items() if k in LINK_TARGETS} == LINK_TARGETS
    assert targets["projects"] == ["deals"] and targets["p_cars"] == ["contacts", "projects"]
    pairs = [frozenset((a, b)) for a, bs in targets.items() for b in bs]
    assert len(pairs) == len(set(pairs)) == 29


def test_given_the_manifest_when_history_streams_are_listed_then_the_built_in_ones_are_the_registrys_types_with_defaults():
    definitions = load_manifest()["definitions"]
    built_in = {d["$parameters"]["object_type"]: d["name"] for d in definitions.values()
                if isinstance(d, dict) and d.get("$ref") == "#/definitions/property_history_stream"
                and "object_type" in d.get("$parameters", {})}
    assert built_in == {name: objects.history_stream(objects.object_type(name)) for name in objects.built_in_history_types()}
    assert set(built_in) == {"contacts", "companies", "deals", "tickets"}
    streams = {entry["$ref"].rsplit("/", 1)[-1] for entry in load_manifest()["streams"]}
    assert {f"{name}_property_history_stream" for name in built_in} <= streams


def test_given_property_history_config_when_transformed_then_only_streams_without_a_built_in_history_are_added():
    config = {"property_history": [{"stream": "tickets", "properties": ["subject"]},
                                   {"stream": "engagements_notes", "properties": ["hs_note_body"]},
                                   {"stream": "engagements_notes", "properties": ["hs_timestamp"]},
                                   {"stream": "custom_cars", "properties": ["model"]}, "junk", {"properties": []}]}

    HistoryStreams().transform(config)

    # Names are checked against the registry when the streams are built (a custom object may register later).
    assert config[ADDED_HISTORY_KEY] == [{"stream": "engagements_notes"}, {"stream": "custom_cars"}]
    assert history_choice(config, "notes") == (["hs_note_body", "hs_timestamp"], "property_history entry engagements_notes")
    assert history_choice(config, "calls") == ([], "the defaults of engagements_calls_property_history")
