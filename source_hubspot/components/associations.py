"""The association id arrays of object records: read with v4 batch reads, or taken from a list page once proved."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, List, MutableMapping, Optional, Tuple

from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot.api import next_after
from source_hubspot.batch import read_association_ids
from source_hubspot.components.errors import is_missing_scope
from source_hubspot.run_state import RunRegistry

logger = logging.getLogger("airbyte")


class DeniedAssociations(RunRegistry):
    """Association types the token may not read: the records still arrive, without that id array, and the run
    says once which array is missing and the scope to add (a contact is readable without the deals scope)."""

    _denied: ClassVar[Dict[Tuple[str, str], str]] = {}
    _inline: ClassVar[Dict[Tuple[str, str], bool]] = {}
    _judging: ClassVar[Dict[Tuple[str, str], threading.Lock]] = {}

    @classmethod
    def judging(cls, from_type: str, to_type: str) -> threading.Lock:
        """Held while one list page of the pair is compared with a v4 batch read: pages of other list readers wait
        for its verdict instead of each paying a comparison of their own."""
        with cls._lock:
            return cls._judging.setdefault((from_type, to_type), threading.Lock())

    @classmethod
    def denied(cls, from_type: str, to_type: str) -> bool:
        return (from_type, to_type) in cls._denied

    @classmethod
    def inline_trusted(cls, from_type: str, to_type: str) -> Optional[bool]:
        """Whether a list's inline ids of this pair matched a v4 batch read this run; None before the comparison."""
        return cls._inline.get((from_type, to_type))

    @classmethod
    def judge_inline(cls, from_type: str, to_type: str, agree: bool) -> None:
        with cls._lock:
            if (from_type, to_type) in cls._inline:
                return
            cls._inline[(from_type, to_type)] = agree
        if not agree:
            logger.warning(
                f"HubSpot's list gave {from_type} records other '{to_type}' association ids than its v4 associations "
                "API: for this run they are read with v4 batch reads (exact, one more call per list page)."
            )

    @classmethod
    def deny(cls, from_type: str, to_type: str, reason: str) -> None:
        with cls._lock:
            if (from_type, to_type) not in cls._denied:
                cls._denied[(from_type, to_type)] = reason
                logger.warning(
                    f"{from_type} records are emitted without their '{to_type}' association ids for this run: {reason}"
                )


@dataclass
class AssociationArrays:
    """Attaches `{to_type: [ids]}` to object records (the extractor's helper): every v4 call goes through the
    manifest's associations requester, at `{associations_path}/{from}/{to}/batch/read`."""

    requester: Any
    associations_path: str
    backoff: float

    def path(self, from_type: str, to_type: str) -> str:
        return f"{self.associations_path}/{from_type}/{to_type}/batch/read"

    def attach_inline(self, records: List[MutableMapping[str, Any]], object_type: str, to_types: List[str]) -> None:
        """The id arrays of a list page, from each record's inline `associations` (one entry per id and association
        label, so ids repeat). HubSpot inlines a limited number per record and type and says so with `paging`:
        those records' arrays are read whole with a v4 batch read, like search pages'.

        Inline lists are trusted only once they proved right: a list silently leaves out what the token may not
        read, where a v4 batch read answers 403, and an empty array would claim "no links". So each pair's first
        list page is read with a v4 batch read as well and the two are compared; if they disagree, that pair's list
        pages are read with v4 batch reads for the rest of the run."""
        inline = [record.pop("associations", None) or {} for record in records]
        for to_type in to_types:
            if DeniedAssociations.denied(object_type, to_type):
                continue
            listed, cut = [], []
            for links in inline:
                entry = links.get(to_type)
                if not entry:
                    listed.append([])
                    cut.append(False)
                    continue
                results = entry.get("results") or ()
                listed.append(list(dict.fromkeys([str(a["id"]) for a in results if a.get("id") is not None])))
                cut.append("paging" in entry and next_after(entry) is not None)
            trusted = DeniedAssociations.inline_trusted(object_type, to_type)
            if trusted is None:
                with DeniedAssociations.judging(object_type, to_type):
                    trusted = DeniedAssociations.inline_trusted(object_type, to_type)
                    if trusted is None:
                        self.attach(records, object_type, [to_type])
                        if not DeniedAssociations.denied(object_type, to_type):
                            agree = all(set(r[to_type]) == set(ids) for r, ids, c in zip(records, listed, cut) if not c)
                            DeniedAssociations.judge_inline(object_type, to_type, agree)
                        continue
            if trusted is not True:
                self.attach(records, object_type, [to_type])
                continue
            for record, ids in zip(records, listed):
                record[to_type] = ids
            partial = [record for record, c in zip(records, cut) if c]
            if partial:
                path = self.path(object_type, to_type)
                linked = read_association_ids(self.requester, path, [str(r["id"]) for r in partial], self.backoff)
                for record in partial:
                    record[to_type] = linked.get(str(record["id"]), [])

    def attach(self, records: List[MutableMapping[str, Any]], object_type: str, to_types: List[str]) -> None:
        """Each record's id array of each of `to_types`, read with v4 batch reads; a type the token may not read is
        left out for the rest of the run (DeniedAssociations)."""
        ids = [str(record["id"]) for record in records]
        for to_type in to_types:
            if DeniedAssociations.denied(object_type, to_type):
                continue
            path = self.path(object_type, to_type)
            try:
                linked = read_association_ids(self.requester, path, ids, self.backoff)
            except AirbyteTracedException as error:
                if not is_missing_scope(error):
                    raise
                DeniedAssociations.deny(object_type, to_type, error.message or "")
                continue
            for record in records:
                record[to_type] = linked.get(str(record["id"]), [])
