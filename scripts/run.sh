#!/usr/bin/env bash
# Start the app on the embedded defaults (bundled model and sample data, diskcache session store, no external
# service) on http://127.0.0.1:${PORT:-8050}/. Installs the serving dependencies (requirements.txt, no TensorFlow)
# into the project's .venv/ on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv requirements.txt
exec "$VENV_PY" -m dashapp "$@"
