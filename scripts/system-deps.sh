#!/usr/bin/env bash
# Install the Debian packages Babelwire needs when they are missing.
# Usage: scripts/system-deps.sh PACKAGE...   (as root, or with password-less sudo)
set -euo pipefail

missing=()
for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "babelwire: these system packages are missing: ${missing[*]}" >&2
    echo "babelwire: this is not a Debian/Ubuntu system; install them with your package manager." >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "babelwire: these Debian packages are missing: ${missing[*]}" >&2
    echo "babelwire: run as root, or install them first:  sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "babelwire: installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# An old or empty package list finds nothing: refresh it once, then install.
"${SUDO[@]}" apt-get update -qq >/dev/null
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
