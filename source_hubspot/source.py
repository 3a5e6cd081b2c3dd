"""Loads the packaged manifest; everything else is declared there."""

from __future__ import annotations

from importlib import resources
from typing import Any, List, Mapping, Optional

import yaml
from airbyte_cdk.models import AirbyteStateMessage, ConfiguredAirbyteCatalog
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource


def load_manifest() -> Mapping[str, Any]:
    text = resources.files("source_hubspot").joinpath("manifest.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


class SourceHubspot(ConcurrentDeclarativeSource):
    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        config_path: Optional[str] = None,
    ) -> None:
        super().__init__(
            catalog=catalog,
            config=config,
            state=state,
            source_config=load_manifest(),
            config_path=config_path,
        )
