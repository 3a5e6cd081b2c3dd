# source-hubspot: the connector as an Airbyte source image.
#   docker build -t source-hubspot:0.1.0 .
#   docker run --rm source-hubspot:0.1.0 spec
# Plain Dockerfile syntax only, so the classic builder, BuildKit and podman/buildah all build it.
# BASE_IMAGE must be a Debian-based Python 3.10-3.13 image with pip on PATH and the Python headers, as the official
# python images have (`make image-test` swaps in a locally built stand-in because it cannot pull from a registry).
ARG BASE_IMAGE=python:3.11-slim

# Stage 1: the connector's wheel, built from this repository alone. With a C compiler for the record caster's
# extension (source_hubspot/_casts.c; the image's Python carries its headers); the runtime stage gets no compiler.
FROM ${BASE_IMAGE} AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY setup.py ./
COPY source_hubspot ./source_hubspot
# --use-pep517: build in an isolated env with current setuptools and wheel, whatever the base image ships.
RUN pip wheel --no-cache-dir --no-deps --use-pep517 --wheel-dir /wheels .

# Stage 2: the runtime image, run by a non-root user.
FROM ${BASE_IMAGE}
WORKDIR /airbyte/integration_code
# The dependencies first, from setup.py alone (with a placeholder package that is uninstalled again), so this
# layer stays cached while only the connector's code changes.
COPY setup.py /tmp/deps/
RUN mkdir /tmp/deps/source_hubspot \
    && touch /tmp/deps/source_hubspot/__init__.py \
    && pip install --no-cache-dir --use-pep517 --root-user-action=ignore /tmp/deps \
    && pip uninstall --yes --root-user-action=ignore source-hubspot \
    && rm -rf /tmp/deps \
    && useradd --create-home --uid 1000 --user-group --shell /usr/sbin/nologin airbyte \
    && chown airbyte:airbyte /airbyte/integration_code
# Then the connector's wheel. `pip check` fails the build if a dependency is missing; the import if the record
# caster's extension was not compiled (it is optional for pip installs, not for this image); `spec` if the wheel
# lacks its manifest.
COPY --from=builder /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-index --no-deps --root-user-action=ignore /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && pip check \
    && python -c "import source_hubspot._casts" \
    && source-hubspot spec > /dev/null
USER airbyte

ENV AIRBYTE_ENTRYPOINT="source-hubspot"
ENTRYPOINT ["source-hubspot"]

LABEL io.airbyte.name=source-hubspot
LABEL io.airbyte.version=0.1.0
