"""The few components the declarative manifest cannot express, one file per concern.

The manifest names each class by its full path (`source_hubspot.components.records.HubspotRecordExtractor`); this
package re-exports nothing. Each class's docstring names the CDK type that nearly fits and why it is not enough.
Components make HTTP calls only through requesters declared in the manifest (authentication, retries, the rate
budget and test mocks apply); HubSpot's answers are read by api.py, batch.py and search.py, and an object type's
facts come from objects.py.

| file              | what it owns                                                                            |
| ----------------- | --------------------------------------------------------------------------------------- |
| auth.py           | the private-app and OAuth authenticators (token retries), the daily-limit guard         |
| errors.py         | the error handler (a 2xx must carry `results`), the missing-scope test                  |
| requesters.py     | search, list and id-search requesters                                                   |
| paging.py         | the paginators: `paging.next.after` to its end, keyset paging of searches              |
| windows.py        | the windowed search streams' retriever: old empty windows skipped, slices hashed once   |
| pages.py          | a windowed search's page (records, object type, window, last page) and its selector     |
| records.py        | the decoder and the object streams' extractor (windows checked, archived records)       |
| associations.py   | association id arrays: v4 batch reads, inline list ids once proved, denied types        |
| memos.py          | what a run reads once: property definitions, archived records, earliest modification    |
| schema.py         | stream schemas from the properties API                                                  |
| values.py         | the caster's per-value casts (numbers, booleans, datetimes, dates)                      |
| casting.py        | the record caster (the C loop of _casts.c, or its Python twin)                          |
| engagements.py    | the unified engagements stream's columns                                                |
| state.py          | saved states migrated, or refused with the reset message                                |
| config.py         | camelCase parameters migrated to the spec's shape; the run's paths (ApiPaths)           |
| analyst_scopes.py | the analyst tables' scope checks in discover; parts a read skips (Unreadable)           |
| analyst_links.py  | association_links: its partitions and its rows                                          |
| analyst_history.py| property history of any object: which properties, the streams property_history adds   |
| analyst_tables.py | owners, pipeline stages, merges and deal splits rows                                    |
"""
