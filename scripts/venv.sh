# Sourced by run.sh and test.sh: create (once) and fill the project's virtual environment .venv/.
# A venv, not the system interpreter: Debian 12's python3 refuses `pip install` (PEP 668, externally managed).
# Any python3 >= 3.11 works; set PYTHON=/path/to/python3.x to choose one, VENV_DIR to move the environment.

VENV_DIR="${VENV_DIR:-.venv}"
VENV_PY="$VENV_DIR/bin/python"

die() { echo "$(basename "$0"): $*" >&2; exit 2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run '$*' (no sudo): install it as root, then re-run"
  fi
}

# apt-get install the Debian packages given, once, when some are missing.
apt_install() {
  [ $# -gt 0 ] || return 0
  command -v apt-get >/dev/null 2>&1 || die "missing $* and no apt-get here: install them with your system's package manager"
  echo "installing Debian packages: $*" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

base_python() {
  local py="${PYTHON:-python3}"
  command -v "$py" >/dev/null 2>&1 || die "no $py on PATH: install Python 3.11 or newer (Debian: apt-get install python3)"
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$py is Python $("$py" -c 'import platform; print(platform.python_version())'); 3.11 or newer is needed (set PYTHON=...)"
  echo "$py"
}

# Debian splits venv/ensurepip into python3-venv (python3.X-venv): without it `python3 -m venv` fails.
ensure_venv_module() {
  local py="$1"
  "$py" -c 'import ensurepip, venv' >/dev/null 2>&1 && return 0
  local ver
  ver="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  apt_install python3-venv "python$ver-venv"
  "$py" -c 'import ensurepip, venv' >/dev/null 2>&1 || die "$py still has no venv/ensurepip after installing python$ver-venv"
}

sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi | cut -d' ' -f1; }

# Requirement files with every file they include (-r), so a change in any of them is seen by the stamp.
requirement_closure() {
  local f="$1" inc
  echo "$f"
  for inc in $(sed -n 's/^[[:space:]]*-r[[:space:]]*//p' "$f"); do
    requirement_closure "$(dirname "$f")/$inc"
  done
}

# ensure_venv REQUIREMENTS_FILE: make .venv if needed; pip install the file unless this exact content is installed.
ensure_venv() {
  local req="$1"
  if [ ! -x "$VENV_PY" ] || ! "$VENV_PY" -c 'import sys' >/dev/null 2>&1; then
    local py
    py="$(base_python)"
    ensure_venv_module "$py"
    echo "creating $VENV_DIR with $py ($("$py" -c 'import platform; print(platform.python_version())'))" >&2
    rm -rf "$VENV_DIR"
    "$py" -m venv "$VENV_DIR"
  fi
  local stamp="$VENV_DIR/.installed-$(basename "$req" .txt).sha256" hash
  hash="$(requirement_closure "$req" | sort -u | xargs cat | sha256)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
    echo "installing $req into $VENV_DIR (pip)" >&2
    "$VENV_PY" -m pip install -q --disable-pip-version-check -r "$req"
    echo "$hash" > "$stamp"
  fi
  # the venv's console scripts (gunicorn, celery) first on PATH for the processes the tests start
  case "$VENV_DIR" in /*) PATH="$VENV_DIR/bin:$PATH" ;; *) PATH="$PWD/$VENV_DIR/bin:$PATH" ;; esac
  export PATH
}
