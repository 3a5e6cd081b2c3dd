"""A declarative Airbyte source for HubSpot."""

from source_hubspot.source import SourceHubspot

__all__ = ["SourceHubspot"]
