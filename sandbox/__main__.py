"""`python -m sandbox`.

The sandbox reads its object types from source_hubspot/objects.py, a module that imports nothing of the connector.
Imported through its package it would load the connector and the CDK as well: 1 to 3 s and 55 MB more for every
sandbox process, and the integration tests start dozens. So this process, which never runs the connector, loads that
one file first, under its own name; every `from source_hubspot.objects import ...` then finds it. (A test that runs a
sandbox in its own process imports the package as usual: sandbox.server.run_server.)
"""
import importlib.util
import sys
from pathlib import Path

REGISTRY = "source_hubspot.objects"


def _load_registry_alone() -> None:
    package = importlib.util.find_spec("source_hubspot")  # finds the package without running it
    if package is None or package.origin is None or REGISTRY in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(REGISTRY, Path(package.origin).parent / "objects.py")
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules[REGISTRY] = module
    spec.loader.exec_module(module)


if __name__ == "__main__":
    _load_registry_alone()
    from sandbox.server import main

    main()
