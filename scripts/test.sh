#!/usr/bin/env bash
# Run the tests in the project's .venv/ (created and filled on first use).
#   bash scripts/test.sh            the whole suite
#   bash scripts/test.sh --fast     the fast tier: no browser, no gunicorn, no Redis/Celery, no TensorFlow training
#   bash scripts/test.sh --rest     everything the fast tier leaves out
# Further arguments go to pytest (e.g. -x, -k NAME, a test file). The tiers are the markers that tests/conftest.py
# assigns from the fixtures a test uses (see pytest.ini). Works with bash 3.2 (macOS) too.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh

FAST='not (browser or server or training or slow)'
tier=all
case "${1:-}" in
  --fast) tier=fast; shift ;;
  --rest) tier=rest; shift ;;
esac

if [ "$tier" = fast ]; then
  # serving dependencies + test tools; TensorFlow (requirements-train.txt) is not needed
  ensure_venv requirements-test.txt
  select=(-m "$FAST")
else
  # Debian packages: Chromium + chromedriver (browser tests), redis-server (the tests start their own on a free port)
  need=()
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  apt_install ${need[@]+"${need[@]}"}
  ensure_venv requirements-dev.txt
  select=()
  [ "$tier" = rest ] && select=(-m "not ($FAST)")
fi
exec "$VENV_PY" -m pytest -p no:cacheprovider ${select[@]+"${select[@]}"} "$@"
