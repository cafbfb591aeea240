# The Portico image: the operator (`portico run`) and the in-cluster proxy (`portico proxy`).
#   docker build -t portico/portico:0.1.0 .
# The base is pinned to an exact release; bump both stages together.

FROM python:3.11.14-slim-bookworm AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY operator ./operator
COPY providers ./providers
# Wheels for Portico and everything it needs (the AWS and Azure SDKs included), so the final stage needs no compiler.
RUN pip wheel --wheel-dir /wheels '.[aws,azure]'

FROM python:3.11.14-slim-bookworm
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels 'portico-gateway[aws,azure]' \
    && useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin portico
# Numeric, so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001
ENTRYPOINT ["portico"]
CMD ["--help"]
