ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

WORKDIR /airbyte/integration_code
COPY setup.py README.md ./
COPY source_hubspot ./source_hubspot
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 1000 airbyte
USER airbyte

ENV AIRBYTE_ENTRYPOINT="source-hubspot"
ENTRYPOINT ["source-hubspot"]

LABEL io.airbyte.name=source-hubspot
LABEL io.airbyte.version=0.1.0
