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

echo "== ruff check";        .venv/bin/ruff check .
echo "== ruff format check"; .venv/bin/ruff format --check .
echo "== mypy";              .venv/bin/mypy
echo "== pytest";            .venv/bin/python -m pytest "$@"
