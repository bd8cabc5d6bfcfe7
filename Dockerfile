# syntax=docker/dockerfile:1
# Build stage: install the app and its dependencies into a virtual environment.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY app ./app
# Dependencies only: the app itself runs from /srv, where alembic/ sits beside it.
RUN /opt/venv/bin/pip install . && /opt/venv/bin/pip uninstall --yes settlement

# Runtime stage: no compilers, a non-root user, migrations then the server.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/srv \
    SETTLEMENT_LOG_JSON=true
RUN groupadd --system settlement && useradd --system --gid settlement --home /srv settlement
WORKDIR /srv
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY alembic ./alembic
COPY app ./app
RUN mkdir -p /srv/var && chown settlement:settlement /srv/var
USER settlement
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
# SETTLEMENT_DATABASE_URL must point at PostgreSQL in production.
CMD ["sh", "-c", "python -m app.cli migrate && exec python -m app.cli serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2}"]
