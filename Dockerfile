# The Pylon base image: a Python virtualenv at /opt/pylon with Pylon and its two runtime
# dependencies, run as an unprivileged user from /app. A component's own Dockerfile is
# three lines on top of it (examples/readme/Dockerfile):
#
#     FROM pylon-base:0.1.0
#     ADD .env hello.py /app/
#     ENTRYPOINT ["python", "hello.py"]
#
# `pylon image build` builds it (and the `harness` target) from a local wheelhouse, so it
# also builds where no registry can be reached. A plain build works where PyPI can:
#
#     docker build -t pylon-base:0.1.0 .
#     docker build -t pylon-base:0.1.0 --build-arg BASE_IMAGE=my-debian-python .
#
# No `# syntax=` line: the builder's own Dockerfile frontend is used, nothing is pulled.

# Any Debian-like image with python3 and its venv module (python3-venv on plain Debian).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
# Wheels found here are used first; PIP_NO_INDEX=1 makes them the only source (offline).
ARG PIP_NO_INDEX
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_FIND_LINKS=/wheelhouse
COPY docker-images/wheelhouse/ /wheelhouse/
COPY pyproject.toml README.md /src/
COPY pylon/ /src/pylon/
COPY harness/ /src/harness/
RUN python3 -m venv /opt/pylon && /opt/pylon/bin/pip install /src

FROM build AS harness-build
ARG PIP_NO_INDEX
RUN /opt/pylon/bin/pip install "/src[harness]"

# What the final stages share: the user, the path, unbuffered logs for `docker logs`.
FROM ${BASE_IMAGE} AS runtime
RUN useradd --create-home --uid 10001 --user-group pylon
ENV PATH=/opt/pylon/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app

# pylon-harness: the `pylon` CLI too, for one-shot jobs such as compose's provisioner.
FROM runtime AS harness
COPY --from=harness-build /opt/pylon /opt/pylon
USER pylon

# pylon-base (the default target): the runtime only, what components are built from.
FROM runtime AS base
COPY --from=build /opt/pylon /opt/pylon
USER pylon
