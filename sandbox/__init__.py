"""Fake HubSpot API server used for connector development and tests.

Usage: ``python -m sandbox --port 0 --port-file /tmp/port`` or, in-process,
``from sandbox.server import SandboxConfig, run_server``.

server.py      the HTTP layer, run_server and the command line
app.py         the application: dispatch, faults, latency, OAuth tokens, authentication, scopes, stats
versions.py    every path in both of HubSpot's forms: numbered (v3, v4, v1 token) and date-versioned (YYYY-MM)
limits.py      the rate limits
objects_api.py list pages, one record, batch reads;  search_api.py  search;  associations_api.py  associations
analyst_api.py owners, pipelines, labels (their data: analyst.py);  control.py  the /_sandbox control plane
config.py      SandboxConfig;  responses.py  answers, errors, cursors, request readers
catalog.py     the object types (source_hubspot.objects' registry) and the sandbox's tables per type
custom_objects.py  the portal's custom objects (`custom_objects`) and the schemas API that lists them
association_types.py  association type ids and labels;  properties.py, schema.py  property definitions
data.py        the generated records and associations (records.py: a record and its values; values.py: moments, hash)
faults.py, quirks.py  injected faults and HubSpot's hostile-but-legal answers
shapes.py      the answers in HubSpot's observed shape (default) or its OpenAPI documents' (`answer_shape`)
"""
