#!/usr/bin/env bash
# Make bench/.venv-compare with micrograd==0.1.0 and torch==2.13.0 (CPU); idempotent.
# A package that cannot be installed is reported and skipped: its engine is then left out.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-compare"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv" || { echo "setup_compare: cannot create $venv" >&2; exit 1; }
fi

# has NAME VERSION: is exactly that version (local suffixes like +cpu aside) installed?
has() {
    "$venv/bin/python" - "$1" "$2" <<'EOF' 2>/dev/null
import importlib.metadata as m, sys
sys.exit(m.version(sys.argv[1]).split("+")[0] != sys.argv[2])
EOF
}

install() {
    local name="$1" version="$2"
    has "$name" "$version" && return 0
    echo "setup_compare: installing $name==$version into $venv" >&2
    if ! "$venv/bin/python" -m pip install --quiet "$name==$version" 2>"$venv/pip-$name.log"; then
        echo "setup_compare: could not install $name==$version (see $venv/pip-$name.log);" \
             "the $name engine will be skipped" >&2
    fi
}

install micrograd 0.1.0
install torch 2.13.0
exit 0
