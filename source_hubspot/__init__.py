"""A declarative Airbyte source for HubSpot."""

from source_hubspot import speedups

speedups.apply_before_cdk()  # before the CDK loads: see speedups.py

from source_hubspot.run import _message_to_output  # noqa: E402
from source_hubspot.source import SourceHubspot  # noqa: E402

speedups.apply(_message_to_output)

__all__ = ["SourceHubspot"]
