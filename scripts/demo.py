"""`make demo`: start the HubSpot sandbox, run a real `source-hubspot read` of every stream, show what came out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.standard_objects import DEMO_COUNTS  # noqa: E402
from source_hubspot.custom_objects import custom_objects  # noqa: E402
from testkit import analyst_truth  # noqa: E402
from testkit.harness import (  # noqa: E402
    ALL_STREAMS,
    ANALYST_STREAMS,
    STANDARD_STREAMS,
    STREAM_OBJECTS,
    Sandbox,
    configured_catalog,
    run_connector,
)


def read_analyst_tables(sandbox: Sandbox) -> bool:
    """The analyst tables, in a read of their own: one search window, so the sandbox's whole history is one page run."""
    config = sandbox.private_app_config(start_date="2021-06-01T00:00:00Z", window_days=3650)
    print(f"\nRunning: source-hubspot read (incremental) of the analyst tables: {', '.join(ANALYST_STREAMS)}")
    run = run_connector("read", config, configured_catalog(ANALYST_STREAMS, incremental=True))
    for error in run.errors:
        print(f"  ERROR: {error['message']}")
    held = analyst_truth.rows_held(sandbox)
    print(f"\n{'analyst table':<28}{'rows':>10}{'in sandbox':>12}")
    for stream in ANALYST_STREAMS:
        print(f"{stream:<28}{len(run.records.get(stream, [])):>10}{held[stream]:>12}")
    for stream in ("deal_pipelines", "association_links", "deals_property_history", "merges"):
        rows = run.records.get(stream) or []
        labelled = [r for r in rows if r.get("associationLabel") not in (None, "Primary")]
        if rows:
            print(f"\nOne {stream} row:\n{json.dumps((labelled or rows)[0], default=str)}")
    print(f"\nanalyst tables read took {run.seconds:.1f} s, exit code {run.returncode}")
    return run.returncode == 0 and not run.errors


def custom_streams(sandbox: Sandbox) -> Dict[str, str]:
    """The sandbox's custom objects: stream name -> the object's fully qualified name (what the sandbox counts)."""
    config = sandbox.private_app_config()
    token = config["credentials"]["access_token"]
    answer = requests.get(f"{sandbox.url}/crm/v3/schemas", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    answer.raise_for_status()
    return {item.stream: item.entry.name for item in custom_objects(answer.json()["results"])}


def main() -> int:
    print("Starting the HubSpot sandbox (fake HubSpot on 127.0.0.1 with generated data)...")
    standard = [arg for name, count in DEMO_COUNTS.items() for arg in (f"--{name}", str(count))]
    with Sandbox("--contacts", "2000", "--companies", "300", "--deals", "300", "--tickets", "200",
                 "--custom-properties", "40", "--search-rate", "5", "--custom-objects", "3", *standard) as sandbox:
        print(f"Sandbox at {sandbox.url}")
        # The sandbox's records start in 2022; a start_date spares the empty yearly search windows since 2006.
        config = sandbox.private_app_config(start_date="2021-06-01T00:00:00Z")
        print("Running: source-hubspot check")
        check = run_connector("check", config)
        status = [m["connectionStatus"] for m in check.of_type("CONNECTION_STATUS")]
        print(f"  check: {status[-1]['status'] if status else 'no status'}")
        custom = custom_streams(sandbox)  # custom_<name>: one stream per custom object (docs/custom-objects.md)
        streams = ALL_STREAMS + STANDARD_STREAMS + list(custom)
        print(f"Running: source-hubspot read (incremental) of {', '.join(streams)}")
        run = run_connector("read", config, configured_catalog(streams, incremental=True))
        for error in run.errors:
            print(f"  ERROR: {error['message']}")
        print(f"\n{'stream':<24}{'records':>10}{'in sandbox':>12}")
        for stream in streams:
            emitted = len(run.records.get(stream, []))
            held = sum(len(sandbox.ids(object_type)) for object_type in STREAM_OBJECTS.get(stream, [custom.get(stream)]))
            print(f"{stream:<24}{emitted:>10}{held:>12}")
        sample_stream = ALL_STREAMS[0]
        if run.records.get(sample_stream):
            sample = dict(run.records[sample_stream][0])
            flattened = {k: v for k, v in sample.items() if k.startswith("properties_")}
            shown = {k: v for k, v in sample.items() if not k.startswith("properties_") and k != "properties"}
            shown["properties"] = dict(list(sample.get("properties", {}).items())[:8])
            shown["properties_<name>"] = f"{len(flattened)} flattened columns"
            print(f"\nOne {sample_stream} record (first 8 properties shown):")
            print(json.dumps(shown, indent=2, default=str))
        print("\nFinal state (the next incremental sync starts here):")
        for state in run.final_state():
            print(f"  {state['stream']['stream_descriptor']['name']}: {json.dumps(state['stream']['stream_state'])}")
        print(f"\nread took {run.seconds:.1f} s, exit code {run.returncode}")
        analyst_ok = read_analyst_tables(sandbox)
        return 0 if run.returncode == 0 and not run.errors and analyst_ok else 1


if __name__ == "__main__":
    sys.exit(main())
