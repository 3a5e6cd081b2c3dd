"""The CDK's component factory with the connector's two additions, in one place.

airbyte-cdk 7.39's ConcurrentDeclarativeSource builds its ModelToComponentFactory itself and takes none from its
caller, and the manifest's schema has a slot for none of these additions:

- a first sync's retriever (`FirstSyncRetriever`, first_sync.py): the manifest declares which streams read their
  first sync by list and search at once (`first_sync_reads` in a retriever's parameters; the CDK's
  StateDelegatingStream picks that stream when there is no saved state). A `CustomRetriever` would not do: the CDK
  wires a SimpleRetriever's decoder, paginator and selector only when it builds a SimpleRetriever, so this factory
  builds that SimpleRetriever and hands it to the FirstSyncRetriever that reads through it.
- a windowed search's selector (`components.pages.WindowSelector`), which hands its extractor each answer with the
  window it answers;
- every incremental stream's cursor as a `ClampedCursor` (its value never passes the sync's start): the concurrent
  path accepts no custom incremental_sync.

`HubspotComponentFactory.taking_over` makes one from the source's own factory (the same fields, its own
constructor table), so the CDK's object is left as it was, and gives it the run's rate budget (budget.py), which
the CDK's factory takes as its `api_budget` and hands every requester.
"""

from __future__ import annotations

from typing import Any, Mapping

from airbyte_cdk.sources.declarative.models.declarative_component_schema import SimpleRetriever as SimpleRetrieverModel
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.streams.call_rate import APIBudget
from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor

from source_hubspot.components.pages import PageExtractor, WindowSelector
from source_hubspot.components.requesters import HubspotSearchRequester, IdSearchRequester
from source_hubspot.components.windows import WindowRetriever

FIRST_SYNC_READS = "first_sync_reads"


class ClampedCursor(ConcurrentCursor):
    """The CDK's ConcurrentCursor whose value never passes the moment the cursor was built (before any of its
    windows, whose ends are "now" when they are cut). HubSpot can hold a record modified in the future (a wrong
    clock, an import): emitted as it is, its `updatedAt` would otherwise set the state to, say, 2099, and every
    later sync would read nothing. The CDK's cursor has no bound for the values it keeps."""

    _limit: Any

    @classmethod
    def of(cls, cursor: Any) -> Any:
        """The CDK's ConcurrentCursor as a ClampedCursor: the same wired components (a shallow copy of its fields)."""
        if type(cursor) is not ConcurrentCursor:
            return cursor
        clamped = object.__new__(cls)
        vars(clamped).update(vars(cursor))
        clamped._limit = cursor._end_provider()
        return clamped

    def _extract_cursor_value(self, record: Any) -> Any:
        value = super()._extract_cursor_value(record)
        return self._limit if value > self._limit else value


class HubspotComponentFactory(ModelToComponentFactory):
    """The CDK's ModelToComponentFactory, building the first-sync and window retrievers around the SimpleRetrievers
    it builds, and the cursors of incremental streams as ClampedCursors (see the module's docstring)."""

    @classmethod
    def taking_over(cls, factory: ModelToComponentFactory, api_budget: APIBudget) -> "HubspotComponentFactory":
        """This factory with `factory`'s fields (the CDK's own, built by the source) and the run's rate budget."""
        ours = factory if isinstance(factory, cls) else object.__new__(cls)
        if ours is not factory:
            vars(ours).update(vars(factory))
            ours._init_mappings()  # the constructor table, bound to this factory's methods
        ours._api_budget = api_budget  # what the CDK's factory takes as `api_budget` and gives every requester
        return ours

    def create_simple_retriever(self, model: SimpleRetrieverModel, config: Mapping[str, Any], **kwargs: Any) -> Any:
        from source_hubspot.first_sync import FirstSyncRetriever

        retriever = super().create_simple_retriever(model, config, **kwargs)
        if type(retriever) is not SimpleRetriever or not isinstance(retriever.requester, (HubspotSearchRequester, IdSearchRequester)):
            return retriever  # not a windowed search stream's
        if isinstance(retriever.record_selector.extractor, PageExtractor):
            retriever.record_selector = WindowSelector.around(retriever.record_selector)
        if not hasattr(retriever.record_selector.extractor, "list_requester"):
            return WindowRetriever(retriever)  # the analyst tables' id searches
        list_reads = bool((model.parameters or {}).get(FIRST_SYNC_READS)) and bool(config.get("first_sync_list_reads", True))
        return FirstSyncRetriever(retriever, list_reads=list_reads)

    def create_concurrent_cursor_from_datetime_based_cursor(self, *args: Any, **kwargs: Any) -> Any:
        return ClampedCursor.of(super().create_concurrent_cursor_from_datetime_based_cursor(*args, **kwargs))
