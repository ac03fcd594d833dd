#!/usr/bin/env bash
# Install the serving dependencies and start the app on the embedded defaults
# (bundled model and sample data, diskcache session store, no external service).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -r requirements.txt
exec python3 -m dashapp "$@"
