# syntax=docker/dockerfile:1
# Build: docker build -t cancel-order-bot .
# Run:   docker run --env-file .env -v cancel-order-data:/app/data cancel-order-bot
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
    PORT=3000
VOLUME ["/app/data"]
EXPOSE 3000
ENTRYPOINT ["cancel-order-bot"]
