from setuptools import Extension, find_packages, setup

VERSION = "0.1.0"

setup(
    name="source-hubspot",
    version=VERSION,
    description="A declarative Airbyte source for HubSpot: CRM objects and activities, typed, full and incremental.",
    license="MIT",
    python_requires=">=3.10,<3.14",
    # The connector alone: sandbox/ (the fake HubSpot) and testkit/ (what the tests, benchmarks and demo share) stay
    # in the repository, importable from its root, and out of the wheel and the image.
    packages=find_packages(include=["source_hubspot", "source_hubspot.*"]),
    package_data={"source_hubspot": ["manifest.yaml"]},
    # The record caster's loop in C. Optional: where it cannot be compiled (no C compiler or Python headers) the
    # connector runs the same casts in Python (a read of wide records takes about 1.5 times the CPU) and logs that once.
    ext_modules=[Extension("source_hubspot._casts", ["source_hubspot/_casts.c"], optional=True)],
    include_package_data=True,
    install_requires=[
        # The fast path and the gotchas of DESIGN.md section 5 were measured on 7.39.1.
        "airbyte-cdk>=7.39.1,<7.40",
        "requests>=2.31",
        "pendulum>=3.0",
        "orjson>=3.9",
    ],
    extras_require={
        # hubspot-api-client: HubSpot's published API contract as Python models, for the contract tests only
        # (unit_tests/test_contract.py); never in the runtime install or the image.
        "dev": ["pytest>=8", "requests-mock>=1.11", "pytest-timeout>=2.3", "pytest-xdist>=3.5", "hubspot-api-client==12.0.0"],
    },
    entry_points={"console_scripts": ["source-hubspot=source_hubspot.run:run"]},
)
