"""The association_links table: one row per link of every associated pair of object types (objects.link_targets),
read from the records changed in each window."""

from __future__ import annotations

import threading
from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Mapping, MutableMapping, Optional, Tuple, Union

from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.partition_routers.list_partition_router import ListPartitionRouter
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.types import Config, StreamSlice
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot import objects
from source_hubspot.api import results_of
from source_hubspot.batch import association_from_id, association_results
from source_hubspot.components.analyst_scopes import Unreadable
from source_hubspot.components.analyst_tables import changed_ids
from source_hubspot.components.errors import is_missing_scope
from source_hubspot.components.memos import ProcessMemo
from source_hubspot.components.pages import Page, PageExtractor
from source_hubspot.constants import ASSOCIATION_BATCH_SIZE
from source_hubspot.paths import api_paths
from source_hubspot.run_state import SelectedStreams


@dataclass
class LinkSourceTypes(ListPartitionRouter):
    """One partition (and one saved cursor) per object type whose links are read: the registry's from-types
    (objects.link_targets). CDK type that nearly fits: ListPartitionRouter (this is one), whose values the manifest
    would have to repeat from the registry."""

    values: Union[str, List[str]] = field(default_factory=lambda: list(objects.link_targets(SelectedStreams.names())))
    cursor_field: Union[InterpolatedString, str] = "object_type"
    config: Config = field(default_factory=dict)
    parameters: InitVar[Mapping[str, Any]] = None


class AssociationLabels(ProcessMemo):
    """The association types (and their labels) HubSpot defines for one `from/to` pair, read once per run."""

    @classmethod
    def _fetch(cls, requester: HttpRequester, pair: str) -> List[Mapping[str, Any]]:
        response = requester.send_request(stream_slice=StreamSlice(partition={"pair": pair}, cursor_slice={}), log_formatter=None)
        return list(results_of(response)) if response is not None else []

    @classmethod
    def label(cls, requester: HttpRequester, pair: str, category: Any, type_id: Any) -> Optional[str]:
        for kind in cls.get(requester, pair):
            if kind.get("typeId") == type_id and kind.get("category") == category:
                return kind.get("label")
        return None


@dataclass
class AssociationLinksExtractor(PageExtractor):
    """Turns pages of changed from-record ids into one row per (from, to, association type) link.

    Ids are gathered across search pages until a full v4 batch (1,000 inputs) is ready, or the window's last page
    came, so a window costs one association call per 1,000 records and target type, not one per 200. Each result's
    own `paging.next.after` is followed (a company can have thousands of contacts). The label comes with each
    association type; the pair's label definitions are read (once per run) only if HubSpot leaves one out. The
    pairs are the registry's (objects.link_targets). CDK type that nearly fits: DpathExtractor, which can only
    return what the page holds; these rows come from further batch calls.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    associations_requester: HttpRequester
    labels_requester: HttpRequester

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.stream = str(parameters["name"])
        self.targets: Dict[str, List[str]] = objects.link_targets(SelectedStreams.names())
        self.associations_path = api_paths(self.config)["associations"]
        self.backoff = float(self.config.get("retry_backoff_factor", 1) or 0)
        self._lock = threading.Lock()
        self._pending: Dict[Tuple[str, str, str], List[Tuple[str, Any]]] = {}

    def page_records(self, page: Page) -> Iterable[MutableMapping[str, Any]]:
        from_type = page.object_type
        key = (from_type, *page.window)
        with self._lock:
            pending = self._pending.setdefault(key, [])
            pending.extend(changed_ids(page))
            if page.last:
                ready = self._pending.pop(key)
            elif len(pending) >= ASSOCIATION_BATCH_SIZE:
                ready, pending[:] = pending[: ASSOCIATION_BATCH_SIZE], pending[ASSOCIATION_BATCH_SIZE :]
            else:
                return []
        rows: List[MutableMapping[str, Any]] = []
        if ready:
            for to_type in self.targets.get(from_type, []):
                rows.extend(self._links(from_type, to_type, dict(ready)))
        return rows

    def _links(self, from_type: str, to_type: str, updated: Dict[str, Any]) -> List[MutableMapping[str, Any]]:
        if Unreadable.has((from_type, to_type)):
            return []
        try:
            return list(self._read_pair(from_type, to_type, updated))
        except AirbyteTracedException as error:
            if not is_missing_scope(error):
                raise
            Unreadable.add(self.stream, (from_type, to_type), error.message or "")
            return []

    def _read_pair(self, from_type: str, to_type: str, updated: Dict[str, Any]) -> Iterator[MutableMapping[str, Any]]:
        path = f"{self.associations_path}/{from_type}/{to_type}/batch/read"
        pair = f"{from_type}/{to_type}"
        seen: set = set()
        for result in association_results(self.associations_requester, path, updated, f"the {pair} associations", self.backoff):
            from_id = association_from_id(result)
            for target in result.get("to") or []:
                to_id = str(target.get("toObjectId"))
                for kind in target.get("associationTypes") or []:
                    type_id, category = kind.get("typeId"), kind.get("category")
                    if (from_id, to_id, type_id, category) in seen:
                        continue
                    seen.add((from_id, to_id, type_id, category))
                    label = kind.get("label")
                    if not label and category != "HUBSPOT_DEFINED":
                        label = AssociationLabels.label(self.labels_requester, pair, category, type_id)
                    yield {
                        "fromObjectType": from_type,
                        "fromObjectId": from_id,
                        "toObjectType": to_type,
                        "toObjectId": to_id,
                        "associationTypeId": type_id,
                        "associationCategory": category,
                        "associationLabel": label,
                        "updatedAt": updated.get(from_id),
                    }
