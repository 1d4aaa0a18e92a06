#!/usr/bin/env bash
# Install the bot into .venv and run it. Configuration comes from the environment or .env
# (see README.md). Arguments go to the bot, e.g. `scripts/run.sh --http`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1))." >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# Install only when pyproject.toml changed since the last install (the install is editable:
# code changes need none), so a second call starts at once.
stamp=".venv/.installed-run"
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
  echo "$wanted" > "$stamp"
fi
exec .venv/bin/cancel-order-bot "$@"
