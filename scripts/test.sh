#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine and run the whole suite.
# Debian packages: chromium + chromedriver (browser tests), redis-server (integration tests start their own).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
python3 -m pip install -q -r requirements-dev.txt
# Redis for the integration tests is started by the tests themselves (tests/conftest.py) on a free port.
exec python3 -m pytest -p no:cacheprovider "$@"
