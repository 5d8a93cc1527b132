# syntax=docker/dockerfile:1
# wolbot: the `wolbot serve` image. Build: docker build -t wolbot .
# Two stages: the build stage installs from the hashed lock file (the same command CI's
# `make install` runs) and builds the matching model's cache; the runtime stage gets the
# virtualenv and the cache only, and runs as a non-root user. See docs/operations.md.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/wolbot
COPY requirements-runtime.lock ./
RUN /opt/wolbot/bin/python -m pip install --require-hashes -r requirements-runtime.lock
COPY pyproject.toml README.md ./
COPY bot bot
COPY adapters adapters
RUN /opt/wolbot/bin/python -m pip install --no-deps .
# The e5 graph and reference statistics, built once here instead of at every start.
ENV WOLBOT_CACHE_DIR=/opt/wolbot-cache
RUN /opt/wolbot/bin/wolbot models prepare

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /app --create-home wolbot
COPY --from=build /opt/wolbot /opt/wolbot
COPY --from=build --chown=wolbot:wolbot /opt/wolbot-cache /opt/wolbot-cache
COPY --chown=wolbot:wolbot prompts /app/prompts
ENV PATH=/opt/wolbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WOLBOT_CACHE_DIR=/opt/wolbot-cache \
    WOLBOT_PROMPTS_DIR=/app/prompts \
    WOLBOT_HOST=0.0.0.0 \
    WOLBOT_PORT=8080 \
    WOLBOT_LOG_FORMAT=json
USER wolbot
WORKDIR /app
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/livez', timeout=4).status != 200)"]
ENTRYPOINT ["wolbot"]
CMD ["serve"]
