# syntax=docker/dockerfile:1
# Build: docker build -t cancel-order-bot .
# Run:   docker run --env-file .env -v cancel-order-data:/app/data -p 3000:3000 cancel-order-bot
#        (Socket Mode when SLACK_APP_TOKEN is set, HTTP mode otherwise, as ./scripts/run.sh;
#        see README.md for the sandbox and `check`)
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 bot \
 && mkdir -p /app/data \
 && chown bot:bot /app/data
COPY --from=build /install /usr/local
WORKDIR /app
USER bot
ENV PYTHONUNBUFFERED=1 \
    DATABASE_PATH=/app/data/cancel-order-bot.sqlite3 \
    HOST=0.0.0.0 \
    PORT=3000
VOLUME ["/app/data"]
EXPOSE 3000
# GET /healthz: the database answers, the configuration is loaded (and in Socket Mode the
# WebSocket to Slack is up; it is served on HEALTH_PORT, which defaults to PORT). While the bot
# drains after SIGTERM it answers 503 ("draining"): unhealthy, as a load balancer should see
# it. `docker stop -t` (compose: stop_grace_period) must exceed SHUTDOWN_GRACE_SECONDS.
# The slim image has no curl; Python's urllib does the request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)" || exit 1
ENTRYPOINT ["cancel-order-bot"]
# The mode follows SLACK_APP_TOKEN, as manifest.yml (Socket Mode) and ./scripts/run.sh expect.
CMD ["run"]
