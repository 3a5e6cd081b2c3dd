"""Each object type's property schema: its properties in order, the value pool each generated property picks
from, what a read without `properties` returns, and the properties API's answer."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from sandbox.catalog import Catalog
from sandbox.properties import (CITIES, COMPANY_SUFFIX, COUNTRIES, FIRST, JOBS, K_POOL, LAST, STATES, WORDS, PropSpec,
                                builtin_specs, custom_specs)
from sandbox.values import END_UPDATED_MS, START_MS, iso_ms

PROP_META_CREATED = "2019-08-06T02:41:08.029Z"


def _pool(spec: PropSpec, rng: random.Random, otype: str) -> List[Any]:
    """The values a generated property picks from (hashed by record): 97 of them, shaped by its name and type."""
    name, t = spec.name, spec.type
    size = 97
    out: List[Any] = []
    for _ in range(size):
        if t == "string":
            if name == "firstname":
                v = rng.choice(FIRST)
            elif name == "lastname":
                v = rng.choice(LAST)
            elif name in ("company", "name"):
                v = f"{rng.choice(WORDS[:20]).title()} {rng.choice(WORDS[:20]).title()} {rng.choice(COMPANY_SUFFIX)}"
            elif name == "city":
                v = rng.choice(CITIES)
            elif name == "state":
                v = rng.choice(STATES)
            elif name == "country":
                v = rng.choice(COUNTRIES)
            elif name == "jobtitle":
                v = rng.choice(JOBS)
            elif name == "website":
                v = f"https://www.{rng.choice(WORDS[:20])}{rng.randint(1, 999)}.example.com"
            elif spec.field_type == "textarea" or name.endswith("_body") or name.endswith("_text"):
                v = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 25)))
            else:
                v = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        elif t == "number":
            if name in ("amount", "annualrevenue") or (not spec.hubspot_defined and rng.random() < 0.5):
                v = f"{rng.uniform(0, 100000):.2f}".rstrip("0").rstrip(".")
            elif name == "hs_call_duration":
                v = str(rng.randint(0, 3600000))
            else:
                v = str(rng.randint(0, 5000))
        elif t == "bool":
            v = rng.choice(["true", "false"])
        elif t == "date":
            if name == "date_of_birth":
                d = datetime(1950, 1, 1) + timedelta(days=rng.randint(0, 20000))
            else:
                d = datetime(2020, 1, 1) + timedelta(days=rng.randint(0, 2000))
            v = d.strftime("%Y-%m-%d")
        elif t == "datetime":
            ms = rng.randint(START_MS, END_UPDATED_MS)
            v = str(ms) if spec.epoch else iso_ms(ms)
        elif t == "enumeration":
            opts = spec.options
            if spec.multi and rng.random() < 0.4:
                v = ";".join(sorted(rng.sample(opts, min(len(opts), rng.randint(2, 3)))))
            else:
                v = rng.choice(opts)
        elif t == "phone_number":
            v = f"+1 {rng.randint(200, 999)}-555-{rng.randint(0, 9999):04d}"
        elif t == "object_coordinates":
            v = f"{rng.uniform(-90, 90):.4f},{rng.uniform(-180, 180):.4f}"
        elif t == "json":
            v = '{"k": %d, "tags": ["%s"]}' % (rng.randint(0, 99), rng.choice(WORDS[:20]))
        else:
            v = str(rng.random())
        out.append(v)
    return out


class Schema:
    """Property definitions for one object type."""

    def __init__(self, catalog: Catalog, otype: str, seed: int, n_custom: int) -> None:
        self.otype = otype
        from sandbox.analyst import analyst_specs  # appended last: the other properties keep order and values

        entry = catalog.entries[otype]
        self.specs: List[PropSpec] = builtin_specs(entry) + custom_specs(n_custom) + analyst_specs(otype)
        self.by_name: Dict[str, PropSpec] = {}
        for i, spec in enumerate(self.specs):
            spec.display_order = i if spec.hubspot_defined else -1
            rng = random.Random(f"{seed}:{otype}:{spec.name}")
            spec.salt = rng.getrandbits(64)
            if spec.kind == K_POOL:
                spec.pool = _pool(spec, rng, otype)
                spec.npool = len(spec.pool)
            self.by_name[spec.name] = spec
        self.names = [s.name for s in self.specs]
        self.editable = [s for s in self.specs if not s.read_only and s.kind == K_POOL]
        self.mod_prop = entry.modified_property
        self.create_prop = entry.created_property
        self.group = catalog.property_group(otype)
        self.defaults = catalog.default_properties(otype)
        self.always = ["hs_object_id", self.create_prop, self.mod_prop]
        self.searchable = [n for n in self.defaults if self.by_name[n].type == "string"] + (
            ["phone", "company"] if otype == "contacts" else [])
        self._json: Optional[List[dict]] = None

    def property_json(self) -> List[dict]:
        if self._json is None:
            out = []
            for s in self.specs:
                if s.type == "bool":
                    options = [{"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False, "description": ""},
                               {"label": "No", "value": "false", "displayOrder": 1, "hidden": False, "description": ""}]
                else:
                    options = [{"label": o.replace("_", " ").title(), "value": o, "displayOrder": i, "hidden": False,
                                "description": ""} for i, o in enumerate(s.options)]
                d = {
                    "updatedAt": "2023-05-10T14:22:11.410Z", "createdAt": PROP_META_CREATED,
                    "name": s.name, "label": s.label, "type": s.type, "fieldType": s.field_type,
                    "description": "", "groupName": self.group, "options": options,
                    "displayOrder": s.display_order, "calculated": False, "externalOptions": False,
                    "hasUniqueValue": s.name == "hs_object_id", "hidden": False,
                    "hubspotDefined": s.hubspot_defined,
                    "modificationMetadata": {"archivable": not s.hubspot_defined, "readOnlyDefinition": s.hubspot_defined,
                                             "readOnlyValue": s.read_only},
                    "formField": not s.read_only,
                }
                if s.type == "number" and s.name != "hs_object_id":
                    d["showCurrencySymbol"] = s.name in ("amount", "annualrevenue")
                if not s.hubspot_defined:
                    d["createdUserId"] = "12345678"
                    d["updatedUserId"] = "12345678"
                out.append(d)
            self._json = out
        return self._json

