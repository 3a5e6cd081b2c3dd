"""The analyst tables' rows: owners as HubSpot lists them, pipeline stages, merges and deal splits (the links are in
analyst_links.py, property history in analyst_history.py). Each reads a page of ids changed in a window, or a small listing, and emits derived rows."""

from __future__ import annotations

import logging
from dataclasses import InitVar, dataclass
from typing import Any, Dict, Iterable, List, Mapping, MutableMapping, Optional, Tuple

import requests
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester

from source_hubspot.run_state import Once
from source_hubspot.api import as_bool, as_number, iso_of_epoch_text, iso_of_millis, millis_of, results_of
from source_hubspot.batch import read_batch
from source_hubspot.components.pages import Page, PageExtractor

logger = logging.getLogger("airbyte")


def changed_ids(page: Page) -> List[Tuple[str, Any]]:
    """(id, updatedAt) of each record of a search page: updatedAt is the cursor of every row derived from it."""
    return [(str(record["id"]), record.get("updatedAt")) for record in page.records]


class ResultsExtractor(RecordExtractor):
    """Returns `body["results"]` as HubSpot sent it (it needs neither config nor parameters). CDK type that nearly
    fits: DpathExtractor, which walks every node of the page."""

    extract_records = staticmethod(results_of)  # type: ignore[assignment]


@dataclass
class PipelineStagesExtractor(RecordExtractor):
    """One row per pipeline stage, with its pipeline's columns: the stage id is what deals (`dealstage`) and
    tickets (`hs_pipeline_stage`) hold, so an analyst joins on it to get the label, the pipeline and the closed flag.

    HubSpot answers one record per pipeline with a `stages` array. CDK type that nearly fits: DpathExtractor, which
    can select the stages but not give each one its pipeline's columns.
    """

    config: Optional[Mapping[str, Any]] = None
    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        rows: List[MutableMapping[str, Any]] = []
        for pipeline in results_of(response):
            for stage in pipeline.get("stages") or []:
                metadata = stage.get("metadata") or {}
                rows.append({
                    "pipelineId": str(pipeline.get("id")),
                    "pipelineLabel": pipeline.get("label"),
                    "pipelineDisplayOrder": pipeline.get("displayOrder"),
                    "pipelineArchived": pipeline.get("archived"),
                    "pipelineCreatedAt": pipeline.get("createdAt"),
                    "pipelineUpdatedAt": pipeline.get("updatedAt"),
                    "stageId": str(stage.get("id")),
                    "stageLabel": stage.get("label"),
                    "stageDisplayOrder": stage.get("displayOrder"),
                    "probability": as_number(metadata.get("probability")),
                    "ticketState": metadata.get("ticketState"),
                    "isClosed": as_bool(metadata.get("isClosed")),
                    "stageArchived": stage.get("archived"),
                    "createdAt": stage.get("createdAt"),
                    "updatedAt": stage.get("updatedAt"),
                    "writePermissions": stage.get("writePermissions"),
                    "metadata": metadata,
                })
        return rows


@dataclass
class MergesExtractor(PageExtractor):
    """One row per record merged into a surviving record, from the survivor's `hs_merged_object_ids` (and, for
    contacts, `hs_calculated_merged_vids` = "vid:epoch-ms;...", which also says when). CDK type that nearly fits:
    DpathExtractor; parsing two list formats into rows is beyond a declarative extractor.
    """

    config: Optional[Mapping[str, Any]] = None
    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def page_records(self, page: Page) -> Iterable[MutableMapping[str, Any]]:
        object_type = page.object_type
        rows: List[MutableMapping[str, Any]] = []
        for record in page.records:
            properties = record.get("properties") or {}
            merged_at: Dict[str, Optional[str]] = {}
            for item in str(properties.get("hs_calculated_merged_vids") or "").split(";"):
                vid, _, stamp = item.strip().partition(":")
                if vid:
                    merged_at[vid] = iso_of_epoch_text(stamp.strip())
                    if merged_at[vid] is None and stamp.strip():
                        self._warn_unreadable(object_type, str(record.get("id")), stamp.strip())
            merged = [i.strip() for i in str(properties.get("hs_merged_object_ids") or "").split(";") if i.strip()]
            for merged_id in dict.fromkeys(merged + list(merged_at)):
                rows.append({
                    "objectType": object_type,
                    "mergedId": merged_id,
                    "survivingId": str(record.get("id")),
                    "mergedAt": merged_at.get(merged_id),
                    "updatedAt": record.get("updatedAt"),
                })
        return rows

    @staticmethod
    def _warn_unreadable(object_type: str, record_id: str, stamp: str) -> None:
        # One warning per run, not one per value: a portal with a bad value has it on every page of every sync.
        if not Once.first("merges: unreadable merge time"):
            return
        shown = stamp if len(stamp) <= 40 else stamp[:37] + "..."
        logger.warning(
            f"merges: hs_calculated_merged_vids of {object_type} {record_id} has the merge time {shown!r}, which is "
            "not epoch milliseconds; such merges are emitted with mergedAt null (said once per sync, however many "
            "values). The value comes from HubSpot: no setting fixes it; the merged ids are complete."
        )


# A split's properties with a type of their own in the deal_splits schema (the others stay HubSpot's text).
SPLIT_NUMBERS = ("hs_deal_split_amount", "hs_deal_split_percentage")
SPLIT_MOMENTS = ("hs_createdate", "hs_lastmodifieddate")


def split_row(deal_id: str, split: Mapping[str, Any]) -> MutableMapping[str, Any]:
    """One deal split as a deal_splits row: HubSpot's split object (`id`, `properties`, `createdAt`, ...), its deal's
    id, and each property also as a `properties_{name}` column, as the object streams have them."""
    properties = dict(split.get("properties") or {})
    row: MutableMapping[str, Any] = {
        "id": str(split.get("id")),
        "dealId": deal_id,
        "properties": properties,
        "createdAt": split.get("createdAt"),
        "updatedAt": split.get("updatedAt"),
        "archived": split.get("archived"),
        "archivedAt": split.get("archivedAt"),
    }
    for name, value in properties.items():
        if name in SPLIT_NUMBERS:
            value = as_number(value)
        elif name in SPLIT_MOMENTS and value not in (None, ""):
            millis = millis_of(value)
            value = iso_of_millis(millis) if millis is not None else None
        row[f"properties_{name}"] = value
    return row


@dataclass
class DealSplitsExtractor(PageExtractor):
    """Turns a page of deal ids into one row per split of those deals.

    HubSpot's deal splits API reads the splits of a batch of deals by their ids (`POST {deal_splits}/batch/read`);
    it lists nothing and filters on nothing, so the deals' ids come from the searched page. CDK type that nearly
    fits: DpathExtractor, which can only return what the searched page holds.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    splits_requester: HttpRequester

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.object_type = str(parameters["object_type"])
        self.batch_size = int(parameters["deal_splits_batch_size"])

    def page_records(self, page: Page) -> Iterable[MutableMapping[str, Any]]:
        ids = [object_id for object_id, _ in changed_ids(page)]
        rows: List[MutableMapping[str, Any]] = []
        for start in range(0, len(ids), self.batch_size):
            inputs = [{"id": deal_id} for deal_id in ids[start : start + self.batch_size]]
            answered = read_batch(
                lambda batch: self.splits_requester.send_request(request_body_json={"inputs": batch}, log_formatter=None),
                inputs,
                lambda result: str(result.get("id")),
                "the deal splits",
                float(self.config.get("retry_backoff_factor", 1) or 0),
            )
            for result in answered:
                for split in result.get("splits") or []:
                    rows.append(split_row(str(result.get("id")), split))
        return rows
