"""metadata.yaml agrees with the package: setup.py, the Dockerfile, the manifest and the README. Fast: files only,
no network, no podman. Each check is a function over a directory, so the last tests can show, on tampered copies,
that every check fails when the files disagree."""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the manifest is large
FILES = ["metadata.yaml", "setup.py", "Dockerfile", "README.md", "source_hubspot/manifest.yaml"]

# The enums of Airbyte's ConnectorMetadataDefinitionV0.
REQUIRED = [
    "name",
    "definitionId",
    "connectorType",
    "dockerRepository",
    "dockerImageTag",
    "license",
    "documentationUrl",
    "githubIssueLabel",
    "connectorSubtype",
    "releaseStage",
]
CONNECTOR_TYPES = {"source", "destination"}
SUBTYPES = {"api", "database", "datalake", "file", "custom", "message_queue", "unknown", "vectorstore"}
RELEASE_STAGES = {"alpha", "beta", "generally_available", "custom"}
SUPPORT_LEVELS = {"community", "certified", "archived"}


# --- readers -----------------------------------------------------------------------------------------------


def metadata(root: Path) -> dict[str, Any]:
    return yaml.load((root / "metadata.yaml").read_text(), Loader=LOADER)


def setup_call(root: Path) -> dict[str, Any]:
    """The literal keyword arguments of setup() in setup.py, with module-level constants resolved."""
    tree = ast.parse((root / "setup.py").read_text())
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setup":
            found = {}
            for keyword in node.keywords:
                if isinstance(keyword.value, ast.Name) and keyword.value.id in constants:
                    found[keyword.arg] = constants[keyword.value.id]
                else:
                    try:
                        found[keyword.arg] = ast.literal_eval(keyword.value)
                    except ValueError:
                        pass
            return found
    raise AssertionError("setup.py has no setup() call")


def dockerfile(root: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, current = [], ""
    for line in (root / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        current += " " + stripped
        if current.endswith("\\"):
            current = current[:-1]
            continue
        word, _, rest = current.strip().partition(" ")
        instructions.append((word.upper(), rest.strip()))
        current = ""
    return instructions


def key_values(arguments: str) -> dict[str, str]:
    pairs = {}
    for token in shlex.split(arguments):
        key, sep, value = token.partition("=")
        if sep:
            pairs[key] = value
    return pairs


def docker_labels(root: Path) -> dict[str, str]:
    labels: dict[str, str] = {}
    for word, arguments in dockerfile(root):
        if word == "LABEL":
            labels.update(key_values(arguments))
    return labels


def docker_env(root: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, arguments in dockerfile(root):
        if word == "ENV":
            env.update(key_values(arguments))
    return env


def docker_default_base_image(root: Path) -> str:
    for word, arguments in dockerfile(root):
        if word == "ARG" and arguments.startswith("BASE_IMAGE="):
            return key_values(arguments)["BASE_IMAGE"]
        if word == "FROM":
            break
    raise AssertionError("the Dockerfile declares no ARG BASE_IMAGE=<default> before its first FROM")


def resolve(node: Any, document: dict[str, Any], depth: int = 0) -> Any:
    """The manifest with its references ($ref: "#/definitions/..." and "#/..." strings) replaced by what they point
    at, the referring mapping's own keys winning, as the CDK resolves them (importing the CDK takes seconds)."""
    if depth > 50:
        raise AssertionError("the manifest's references nest more than 50 deep (a cycle?)")

    def target(pointer: str) -> Any:
        found: Any = document
        for part in pointer.lstrip("#/").split("/"):
            found = found[part]
        return resolve(found, document, depth + 1)

    if isinstance(node, dict):
        resolved = dict(target(node["$ref"])) if "$ref" in node else {}
        resolved.update({key: resolve(value, document, depth) for key, value in node.items() if key != "$ref"})
        return resolved
    if isinstance(node, list):
        return [resolve(item, document, depth) for item in node]
    if isinstance(node, str) and node.startswith("#/"):
        return target(node)
    return node


def manifest(root: Path) -> dict[str, Any]:
    raw = yaml.load((root / "source_hubspot/manifest.yaml").read_text(), Loader=LOADER)
    return resolve(raw, raw)


def stream_names(root: Path) -> set[str]:
    return {stream.get("name") or stream.get("$parameters", {}).get("name") for stream in manifest(root)["streams"]}


def strings_under(node: Any, keys: set[str]) -> list[str]:
    """Every string value of the given keys, anywhere in a nested structure."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in keys and isinstance(value, str):
                found.append(value)
            found += strings_under(value, keys)
    elif isinstance(node, list):
        for item in node:
            found += strings_under(item, keys)
    return found


def image_reference(name: str) -> str:
    """python:3.11-slim and docker.io/library/python:3.11-slim name the same image."""
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


# --- checks: each returns the problems found in the files under root ----------------------------------------


def registry_format(root: Path) -> list[str]:
    document = metadata(root)
    problems = [f"top-level key {key} is not allowed" for key in document if key not in ("metadataSpecVersion", "data")]
    if not isinstance(document.get("metadataSpecVersion"), str):
        problems.append("metadataSpecVersion must be a string")
    data = document.get("data") or {}
    problems += [f"data.{key} is missing" for key in REQUIRED if not data.get(key)]
    try:
        uuid.UUID(str(data.get("definitionId")))
    except ValueError:
        problems.append(f"definitionId {data.get('definitionId')!r} is not a UUID")
    for key, allowed in (
        ("connectorType", CONNECTOR_TYPES),
        ("connectorSubtype", SUBTYPES),
        ("releaseStage", RELEASE_STAGES),
        ("supportLevel", SUPPORT_LEVELS),
    ):
        if data.get(key) not in allowed:
            problems.append(f"data.{key} {data.get(key)!r} is not one of {sorted(allowed)}")
    if data.get("connectorType") != "source" or data.get("connectorSubtype") != "api":
        problems.append("this is an API source: connectorType source, connectorSubtype api")
    if not all(isinstance(tag, str) and ":" in tag for tag in data.get("tags", [])):
        problems.append("tags are strings like language:python")
    if "language:python" not in data.get("tags", []):
        problems.append("tags lack language:python")
    if not isinstance((data.get("allowedHosts") or {}).get("hosts"), list):
        problems.append("allowedHosts.hosts must be a list")
    if not isinstance((data.get("suggestedStreams") or {}).get("streams"), list):
        problems.append("suggestedStreams.streams must be a list")
    return problems


def version_agrees(root: Path) -> list[str]:
    data, setup = metadata(root)["data"], setup_call(root)
    version = setup.get("version")
    problems = []
    if str(data.get("dockerImageTag")) != version:
        problems.append(f"dockerImageTag {data.get('dockerImageTag')!r} != setup.py version {version!r}")
    if docker_labels(root).get("io.airbyte.version") != version:
        problems.append(
            f"Dockerfile io.airbyte.version {docker_labels(root).get('io.airbyte.version')!r} != {version!r}"
        )
    if data.get("license") != setup.get("license"):
        problems.append(f"license {data.get('license')!r} != setup.py license {setup.get('license')!r}")
    return problems


def image_name_agrees(root: Path) -> list[str]:
    data = metadata(root)["data"]
    labels, env = docker_labels(root), docker_env(root)
    problems = []
    if labels.get("io.airbyte.name") != data.get("dockerRepository"):
        problems.append(
            f"Dockerfile io.airbyte.name {labels.get('io.airbyte.name')!r} != {data.get('dockerRepository')!r}"
        )
    scripts = setup_call(root).get("entry_points", {}).get("console_scripts", [])
    commands = [script.split("=")[0].strip() for script in scripts]
    entrypoints = [arguments for word, arguments in dockerfile(root) if word == "ENTRYPOINT"]
    if len(entrypoints) != 1 or ast.literal_eval(entrypoints[0]) != [env.get("AIRBYTE_ENTRYPOINT")]:
        problems.append(f"ENTRYPOINT {entrypoints} is not [AIRBYTE_ENTRYPOINT] ({env.get('AIRBYTE_ENTRYPOINT')!r})")
    if env.get("AIRBYTE_ENTRYPOINT") not in commands:
        problems.append(f"AIRBYTE_ENTRYPOINT {env.get('AIRBYTE_ENTRYPOINT')!r} is not a console script of setup.py")
    base = (data.get("connectorBuildOptions") or {}).get("baseImage", "")
    if image_reference(base.split("@")[0]) != image_reference(docker_default_base_image(root)):
        problems.append(f"connectorBuildOptions.baseImage {base!r} != Dockerfile BASE_IMAGE")
    return problems


def readme_names_the_image(root: Path) -> list[str]:
    data = metadata(root)["data"]
    image = f"{data.get('dockerRepository')}:{data.get('dockerImageTag')}"
    return [] if image in (root / "README.md").read_text() else [f"README.md never mentions the image {image}"]


def suggested_streams_exist(root: Path) -> list[str]:
    streams = stream_names(root)
    suggested = metadata(root)["data"].get("suggestedStreams", {}).get("streams", [])
    problems = [
        f"suggested stream {name!r} is not a stream of the manifest" for name in suggested if name not in streams
    ]
    if len(set(suggested)) != len(suggested):
        problems.append("suggestedStreams lists a stream twice")
    return problems


def documentation_url_agrees(root: Path) -> list[str]:
    spec_url = manifest(root)["spec"].get("documentation_url")
    url = metadata(root)["data"].get("documentationUrl")
    return [] if spec_url == url else [f"documentationUrl {url!r} != the spec's documentation_url {spec_url!r}"]


def allowed_hosts_cover_defaults(root: Path) -> list[str]:
    hosts = set(metadata(root)["data"].get("allowedHosts", {}).get("hosts", []))
    resolved = manifest(root)
    properties = resolved["spec"]["connection_specification"]["properties"]
    urls = [
        properties[key]["default"]
        for key in ("api_base_url", "oauth_token_url")
        if "default" in properties.get(key, {})
    ]
    # The fallbacks written into the requesters and the OAuth authenticator (used when the config has none).
    for template in strings_under(resolved, {"url_base", "url", "token_refresh_endpoint"}):
        urls += re.findall(r"https://[A-Za-z0-9.-]+", template)
    if not urls:
        return ["found no default API URL in the manifest"]
    return [
        f"{url} is not covered by allowedHosts {sorted(hosts)}" for url in urls if urlparse(url).hostname not in hosts
    ]


CHECKS: list[Callable[[Path], list[str]]] = [
    registry_format,
    version_agrees,
    image_name_agrees,
    readme_names_the_image,
    suggested_streams_exist,
    documentation_url_agrees,
    allowed_hosts_cover_defaults,
]


# --- the repository passes every check ---------------------------------------------------------------------


@pytest.mark.parametrize("check", CHECKS, ids=[check.__name__ for check in CHECKS])
def test_repository(check):
    assert check(REPO) == []


def test_the_facts_the_checks_rely_on():
    """The readers read what they should (a reader returning nothing would make the checks pass vacuously)."""
    assert setup_call(REPO)["version"] == metadata(REPO)["data"]["dockerImageTag"]
    assert docker_labels(REPO)["io.airbyte.name"] == "source-hubspot"
    assert docker_env(REPO)["AIRBYTE_ENTRYPOINT"] == "source-hubspot"
    assert image_reference(docker_default_base_image(REPO)) == "python:3.11-slim"
    assert {"contacts", "companies", "deals", "tickets", "engagements"} <= stream_names(REPO)
    assert "api.hubapi.com" in metadata(REPO)["data"]["allowedHosts"]["hosts"]


# --- and each check fails on a copy that disagrees ---------------------------------------------------------


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def set_data(root: Path, key: str, value: Any) -> None:
    document = metadata(root)
    document["data"][key] = value
    (root / "metadata.yaml").write_text(yaml.safe_dump(document))


def bumped_setup_version(root: Path) -> None:
    version = setup_call(root)["version"]
    edit(root / "setup.py", f'"{version}"', '"9.9.9"')


def other_label(root: Path) -> None:
    edit(root / "Dockerfile", "LABEL io.airbyte.name=", "LABEL io.airbyte.name=other-")


def other_label_version(root: Path) -> None:
    edit(root / "Dockerfile", "LABEL io.airbyte.version=", "LABEL io.airbyte.version=1")


def other_base_image(root: Path) -> None:
    edit(root / "Dockerfile", "ARG BASE_IMAGE=python:3.11-slim", "ARG BASE_IMAGE=python:3.12-slim")


def readme_without_image(root: Path) -> None:
    data = metadata(root)["data"]
    image = f"{data['dockerRepository']}:{data['dockerImageTag']}"
    readme = root / "README.md"
    readme.write_text(readme.read_text().replace(image, "the image"))


def unknown_suggested_stream(root: Path) -> None:
    set_data(root, "suggestedStreams", {"streams": ["contacts", "no_such_stream"]})


def other_documentation_url(root: Path) -> None:
    set_data(root, "documentationUrl", "https://example.com/docs")


def missing_api_host(root: Path) -> None:
    set_data(root, "allowedHosts", {"hosts": ["api.hubspot.com"]})


def bad_enum(root: Path) -> None:
    set_data(root, "releaseStage", "stable")


def missing_required(root: Path) -> None:
    document = metadata(root)
    del document["data"]["githubIssueLabel"]
    (root / "metadata.yaml").write_text(yaml.safe_dump(document))


TAMPERINGS = [
    (bumped_setup_version, version_agrees, "dockerImageTag"),
    (other_label_version, version_agrees, "io.airbyte.version"),
    (other_label, image_name_agrees, "io.airbyte.name"),
    (other_base_image, image_name_agrees, "baseImage"),
    (readme_without_image, readme_names_the_image, "never mentions"),
    (unknown_suggested_stream, suggested_streams_exist, "no_such_stream"),
    (other_documentation_url, documentation_url_agrees, "example.com"),
    (missing_api_host, allowed_hosts_cover_defaults, "api.hubapi.com"),
    (bad_enum, registry_format, "releaseStage"),
    (missing_required, registry_format, "githubIssueLabel"),
]


@pytest.mark.parametrize("tamper,check,expected", TAMPERINGS, ids=[t[0].__name__ for t in TAMPERINGS])
def test_each_check_catches_a_disagreement(tmp_path, tamper, check, expected):
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, tmp_path / name)
    assert check(tmp_path) == []
    tamper(tmp_path)
    problems = check(tmp_path)
    assert problems and any(expected in problem for problem in problems), problems
