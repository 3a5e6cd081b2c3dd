"""Request bodies the connector builds per request reach HubSpot as built, without the CDK copying them."""

from __future__ import annotations

import copy
import json

import pytest
import requests
from airbyte_cdk.utils.mapping_helpers import combine_mappings

from source_hubspot.batch import BodyList
from testkit.mock_server import properties_body


def test_given_a_body_list_when_the_cdk_merges_request_options_then_it_is_handed_on_without_a_copy():
    names = BodyList(f"property_{i}" for i in range(400))
    inputs = BodyList({"id": str(i)} for i in range(200))
    body = {"properties": names, "inputs": inputs, "filterGroups": [{"filters": []}]}
    merged = combine_mappings([body, None, {}], allow_same_value_merge=True)
    assert merged["properties"] is names and merged["inputs"] is inputs
    assert merged["filterGroups"] is not body["filterGroups"]  # a plain list is still copied, as the CDK does
    assert copy.deepcopy(names) is names


def test_given_a_body_list_when_sent_then_the_json_is_a_plain_array():
    body = {"properties": BodyList(["email", "firstname"]), "inputs": BodyList([{"id": "1"}])}
    sent = requests.Request("POST", "http://127.0.0.1/crm/v3/objects/contacts/search", json=body).prepare()
    assert json.loads(sent.body) == {"properties": ["email", "firstname"], "inputs": [{"id": "1"}]}


def test_given_whole_body_reads_when_hubspot_answers_gzip_chunked_or_sized_then_the_content_is_complete():
    # Bodies are read in one call (CONTENT_CHUNK_SIZE None; requests' 10 KB chunks with the speed-ups off); HubSpot
    # answers gzip, often chunked. A local server on 127.0.0.1 answers a 1.5 MB page in each framing.
    import gzip
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import source_hubspot.components  # noqa: F401 - sets the chunk size
    from source_hubspot import speedups

    assert requests.models.CONTENT_CHUNK_SIZE == (None if speedups.enabled() else 10 * 1024)
    page = json.dumps({"results": [{"id": str(i), "properties": {"note": "x" * 150}} for i in range(8000)]}).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            body = gzip.compress(page) if "gzip" in self.path else page
            self.send_response(200)
            if "gzip" in self.path:
                self.send_header("Content-Encoding", "gzip")
            if "chunked" in self.path:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(body), 65536):
                    piece = body[start:start + 65536]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with requests.Session() as session:
            for path in ("/sized", "/chunked", "/gzip", "/gzip-chunked"):
                response = session.get(f"http://127.0.0.1:{server.server_port}{path}")
                assert response.content == page, path
    finally:
        server.shutdown()


def test_given_an_object_when_its_pages_ask_for_property_names_then_one_list_is_built_per_run_and_never_copied():
    from types import SimpleNamespace

    from source_hubspot.components.memos import PropertyDefinitions

    calls = []

    def send_request(**kwargs):
        calls.append(kwargs)
        response = requests.Response()
        response._content = json.dumps(properties_body([("email", "string"), ("firstname", "string")])).encode()
        return response

    requester = SimpleNamespace(get_url_base=lambda: "http://127.0.0.1:1/", send_request=send_request)
    PropertyDefinitions.clear()
    try:
        first = PropertyDefinitions.names(requester, "contacts")  # type: ignore[arg-type]
        again = PropertyDefinitions.names(requester, "contacts")  # type: ignore[arg-type]
        assert first == ["email", "firstname"] and again is first and isinstance(first, BodyList)
        assert len(calls) == 1
        merged = combine_mappings([{"properties": first}], allow_same_value_merge=True)
        assert merged["properties"] is first
    finally:
        PropertyDefinitions.clear()


def test_given_threads_asking_for_definitions_when_types_differ_then_their_reads_overlap_and_each_type_is_read_once():
    import threading
    from types import SimpleNamespace

    from source_hubspot.components.memos import PropertyDefinitions

    calls = []
    # Each read waits until all three types' reads are in flight: under one lock for every type they would wait in
    # turn and the barrier breaks after its timeout.
    all_in_flight = threading.Barrier(3, timeout=10)
    broken = []

    def send_request(stream_slice, **kwargs):
        calls.append(stream_slice["object_type"])
        try:
            all_in_flight.wait()
        except threading.BrokenBarrierError:
            broken.append(stream_slice["object_type"])
        response = requests.Response()
        response._content = json.dumps(properties_body([("email", "string")])).encode()
        return response

    requester = SimpleNamespace(get_url_base=lambda: "http://127.0.0.1:1/", send_request=send_request)
    PropertyDefinitions.clear()
    try:
        types = ["contacts", "companies", "deals", "contacts", "companies", "deals"]
        threads = [threading.Thread(target=PropertyDefinitions.get, args=(requester, t)) for t in types]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not broken
        assert sorted(calls) == ["companies", "contacts", "deals"]  # the second caller of a type waited for the first
        assert all(len(PropertyDefinitions.get(requester, t)) == 1 for t in set(types))
    finally:
        PropertyDefinitions.clear()


def test_given_a_stream_of_several_object_types_then_their_definitions_are_asked_for_at_once_and_errors_keep_their_order():
    import threading
    from types import SimpleNamespace

    from source_hubspot.components.memos import PropertyDefinitions

    kinds = ["calls", "emails", "meetings", "notes", "tasks"]
    # Each read waits until all five are in flight: one after another, the barrier breaks after its timeout.
    all_in_flight = threading.Barrier(len(kinds), timeout=10)
    broken = []

    def send_request(stream_slice, **kwargs):
        try:
            all_in_flight.wait()
        except threading.BrokenBarrierError:
            broken.append(stream_slice["object_type"])
        if stream_slice["object_type"] in failing:
            raise ValueError(stream_slice["object_type"])
        response = requests.Response()
        response._content = json.dumps(properties_body([(f"{stream_slice['object_type']}_x", "string")])).encode()
        return response

    requester = SimpleNamespace(get_url_base=lambda: "http://127.0.0.1:1/", send_request=send_request)
    failing: set = set()
    PropertyDefinitions.clear()
    try:
        answers = PropertyDefinitions.get_each(requester, kinds)
        assert not broken
        assert [[p["name"] for p in answer] for answer in answers] == [[f"{kind}_x"] for kind in kinds]
        PropertyDefinitions.clear()
        failing = {"meetings", "tasks"}
        with pytest.raises(ValueError, match="meetings"):  # the first failing type in the stream's order
            PropertyDefinitions.get_each(requester, kinds)
    finally:
        PropertyDefinitions.clear()
