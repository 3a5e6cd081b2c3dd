"""A declarative Airbyte source for HubSpot."""

# Start-up: the CDK's message serializers (serpyco_rs) read every protocol dataclass's source code with
# `inspect.getsource` + `ast.parse` only to put attribute docstrings into JSON-schema descriptions nobody reads here.
# That is 0.4-0.9 s of CPU per process (measured with py-spy); answering "no docs" before the CDK loads skips it.
try:
    import attributes_doc as _attributes_doc

    _attributes_doc.get_attributes_doc = lambda *args, **kwargs: {}
except ImportError:  # pragma: no cover - a CDK without serpyco_rs
    pass

from source_hubspot.source import SourceHubspot  # noqa: E402

__all__ = ["SourceHubspot"]
