"""What the test folders, the benchmarks and the demo share; not part of the connector (setup.py ships
source_hubspot alone).

    harness.py       the sandbox in a subprocess and the real `source-hubspot` command (integration tests, benchmarks,
                     `make demo`, the image test)
    analyst_truth.py what the sandbox holds for each analyst table
    connector.py     the connector in-process: test configs, catalogs, saved states, read/check/discover
    mock_server.py   HubSpot's API for requests-mock: answers built from responses/*.json, and request matchers
    run_state.py     reset_run_state(): the connector's process-wide state, forgotten in one place
    contract.py      HubSpot's published contract (hubspot-api-client's models) applied to answers and request bodies
"""

from testkit.run_state import reset_run_state

__all__ = ["reset_run_state"]
