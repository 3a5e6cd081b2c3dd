"""Fake HubSpot API server used for connector development and tests.

Usage: ``python -m sandbox --port 0 --port-file /tmp/port`` or, in-process,
``from sandbox.server import SandboxConfig, run_server``.
"""
