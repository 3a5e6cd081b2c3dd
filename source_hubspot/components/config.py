"""Config migration (HubSpot's camelCase integration parameters into this connector's spec shape) and the run's
API paths (source_hubspot/paths.py) put where the manifest's Jinja reads them."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, Dict, Mapping, MutableMapping, Optional

from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (
    ConfigTransformation,
)

from source_hubspot import paths
from source_hubspot.constants import OAUTH_CREDENTIALS, PRIVATE_APP_CREDENTIALS


_CAMEL_TO_SPEC = {
    "clientId": "client_id",
    "clientSecret": "client_secret",
    "accessToken": "access_token",
    "refreshToken": "refresh_token",
}


def _camel_params(config: Mapping[str, Any]) -> Dict[str, Any]:
    """HubSpot integration parameters found flat, under `credentials`, or under `auth.params`."""
    found: Dict[str, Any] = {}
    auth = config.get("auth")
    places = [config, config.get("credentials"), auth.get("params") if isinstance(auth, Mapping) else None]
    for place in places:
        if isinstance(place, Mapping):
            for camel in _CAMEL_TO_SPEC:
                if place.get(camel) not in (None, "") and camel not in found:
                    found[camel] = place[camel]
    return found


@dataclass
class FlowServiceConfigMigration(ConfigTransformation):
    """Turns a config written with HubSpot's camelCase integration parameters into this connector's spec shape.

    The parameters can stand flat, under `credentials` or under `auth.params`, and the target credential type
    depends on which are present. CDK types that nearly fit: ConfigRemapField and ConfigAddFields, which move or
    add one field each and cannot branch on which parameters are there.
    """

    config: Optional[Mapping[str, Any]] = None
    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def transform(self, config: MutableMapping[str, Any]) -> None:
        params = _camel_params(config)
        if not params:
            return
        existing = config.get("credentials") if isinstance(config.get("credentials"), Mapping) else {}
        credentials = {k: v for k, v in existing.items() if k not in _CAMEL_TO_SPEC}
        for camel, snake in _CAMEL_TO_SPEC.items():
            if camel in params:
                credentials[snake] = params[camel]
        if params.get("refreshToken") or params.get("clientId") or params.get("clientSecret"):
            credentials["credentials_title"] = OAUTH_CREDENTIALS
        else:
            credentials["credentials_title"] = PRIVATE_APP_CREDENTIALS
        for camel in _CAMEL_TO_SPEC:
            config.pop(camel, None)
        auth = config.get("auth")
        if isinstance(auth, Mapping):
            remaining_params = {k: v for k, v in (auth.get("params") or {}).items() if k not in _CAMEL_TO_SPEC}
            remaining = {k: v for k, v in auth.items() if k != "params"}
            if remaining_params:
                remaining["params"] = remaining_params
            if remaining and set(remaining) != {"specName"}:
                config["auth"] = remaining
            else:
                config.pop("auth", None)
        config["credentials"] = credentials


@dataclass
class ApiPaths(ConfigTransformation):
    """Puts every HubSpot path at the configured api_version (source_hubspot/paths.py) into the run's config under
    `paths.CONFIG_KEY`, where the manifest's paths read them (`{{ config.api_paths.objects }}`).

    CDK type that nearly fits: ConfigAddFields, whose one interpolated value per field would spell the choice
    between the numbered and the date-versioned form once per path; the table and that choice are in paths.py,
    which the Python components read too. A transformation, not a migration: the paths are derived, never saved
    (a config the connector writes back leaves them out, components/auth.py).
    """

    config: Optional[Mapping[str, Any]] = None
    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def transform(self, config: MutableMapping[str, Any]) -> None:
        config[paths.CONFIG_KEY] = paths.api_paths(config)
