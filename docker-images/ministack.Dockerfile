# MiniStack as a LocalStack-compatible emulator image, for machines that cannot pull
# localstack/localstack (no registry, or no auth token for its newer tags). It serves the
# same gateway port (4566), health endpoint and init-hook directories, so compose and the
# harness's LocalStackEmulator use it through PYLON_LOCALSTACK_IMAGE unchanged.
#
#     pylon image build --emulator        # tags pylon-ministack:<MINISTACK_VERSION>
#
# Like the Pylon base image it installs only from docker-images/wheelhouse when PIP_NO_INDEX=1.

ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
# The exact version the harness pins (harness/emulators/ministack.py); passed by the build.
ARG MINISTACK_VERSION
ARG PIP_NO_INDEX
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_FIND_LINKS=/wheelhouse
COPY docker-images/wheelhouse/ /wheelhouse/
RUN test -n "$MINISTACK_VERSION" \
    && python3 -m venv /opt/ministack \
    && /opt/ministack/bin/pip install "ministack==${MINISTACK_VERSION}"

FROM ${BASE_IMAGE}
RUN useradd --create-home --uid 10001 --user-group ministack
COPY --from=build /opt/ministack /opt/ministack
# LocalStack's defaults: every interface, port 4566. On a host network, set GATEWAY_PORT
# and BIND_HOST=127.0.0.1 (the harness and the compose host override do).
ENV GATEWAY_PORT=4566 BIND_HOST=0.0.0.0 LOG_LEVEL=INFO PYTHONUNBUFFERED=1
EXPOSE 4566
USER ministack
WORKDIR /home/ministack
ENTRYPOINT ["/opt/ministack/bin/ministack"]
