#!/usr/bin/env bash
# Install the system programs the project needs: Graphviz's `dot`, Debian's chromium and npm
# (`make site` fetches the pinned Pyodide and viz.js with it). Arguments name the programs
# wanted (default: all three); `make demo` asks for dot alone.
# As root, apt-get installs what is missing; without root, print the command to run instead.
set -euo pipefail
wanted=("${@:-dot chromium npm}")
missing=()
for program in ${wanted[*]}; do
    case "$program" in
        dot) package=graphviz ;;
        chromium) package=chromium ;;
        npm) package=npm ;;
        *) echo "system-deps.sh: unknown program '$program' (use dot, chromium, npm)" >&2; exit 2 ;;
    esac
    command -v "$program" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "micrograd_like needs these system packages: ${missing[*]}" >&2
    echo "install them with:  sudo apt-get install ${missing[*]}" >&2
    echo "(or your system's package manager; Graphviz: https://graphviz.org/download/)" >&2
    [ -n "${CI:-}" ] && exit 1
fi
exit 0
