#!/usr/bin/env bash
# Install the bot and its test tools into .venv, then run the linters, the type checker and
# the test suite. Extra arguments go to pytest (e.g. `scripts/test.sh -k reject`).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1))." >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# Install only when pyproject.toml changed since the last install (the install is editable:
# code changes need none), so a second call starts at once.
stamp=".venv/.installed-dev"
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
  echo "$wanted" > "$stamp"
fi

# The playground's browser test drives Debian's chromium (never a browser download). Install it
# where we may (root with apt, as in CI); elsewhere that one test says why it skips.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing chromium for the browser test (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      chromium fonts-noto-color-emoji; } >/tmp/cancel-order-bot-apt.log 2>&1 \
    || echo "   could not install chromium (see /tmp/cancel-order-bot-apt.log)"
fi

# The PostgreSQL tests need a server: TEST_DATABASE_URL names one, else a throwaway PostgreSQL
# is started here on a temp folder and a free port (as the `postgres` user when run as root,
# since PostgreSQL refuses root), and stopped at exit.
start_postgres() {
  local bindir="" candidate
  bindir="$(pg_config --bindir 2>/dev/null || true)"
  if [ ! -x "$bindir/initdb" ]; then
    for candidate in /usr/lib/postgresql/*/bin; do
      [ -x "$candidate/initdb" ] && bindir="$candidate"
    done
  fi
  if [ ! -x "$bindir/initdb" ]; then
    echo "PostgreSQL is needed for the tests: apt-get install postgresql-15 (or set TEST_DATABASE_URL)." >&2
    exit 1
  fi
  PG_TMP="$(mktemp -d)"
  local port run=()
  port="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_TMP"
    run=(runuser -u postgres --)
  fi
  PG_CTL=("${run[@]}" "$bindir/pg_ctl" -D "$PG_TMP/data")
  trap stop_postgres EXIT
  "${run[@]}" "$bindir/initdb" -D "$PG_TMP/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log" >&2; exit 1; }
  "${PG_CTL[@]}" -l "$PG_TMP/server.log" -w -t 60 start \
    -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null \
    || { cat "$PG_TMP/server.log" >&2; exit 1; }
  export TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  echo "== PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on port $port (throwaway)"
}
stop_postgres() {
  "${PG_CTL[@]}" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_TMP"
}
[ -n "${TEST_DATABASE_URL:-}" ] || start_postgres

echo "== ruff check";        .venv/bin/ruff check .
echo "== ruff format check"; .venv/bin/ruff format --check .
echo "== mypy";              .venv/bin/mypy
# Four workers: the end-to-end tests mostly wait on processes and sockets, so on two cores
# they overlap well. TEST_WORKERS=0 runs everything in one process (for a debugger).
echo "== pytest";            .venv/bin/python -m pytest -n "${TEST_WORKERS:-4}" "$@"
