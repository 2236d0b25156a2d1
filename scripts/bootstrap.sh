#!/usr/bin/env bash
# Set up scenesmith from nothing on Debian/Ubuntu: system packages, a virtual environment in
# .venv, and the package with its embedded CPU backend. `bootstrap.sh dev` adds the test tools.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="embedded,report"
if [ "${1:-}" = "dev" ]; then extras="embedded,report,dev"; fi

# Open3D links libusb-1.0 (DESIGN §5); numba's parallel kernels use GNU OpenMP (libgomp; without
# it they fall back to numba's slower workqueue); Debian's python3-venv provides venv where it is
# split out.
need=()
if ! ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0'; then need+=(libusb-1.0-0); fi
if ! ldconfig -p 2>/dev/null | grep -q 'libgomp.so.1'; then need+=(libgomp1); fi
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then need+=(python3-venv); fi
# The tests open the report page in headless Chromium: Debian's build, driven by Playwright
# (whose own browser download is never used).
if [ "${1:-}" = "dev" ] && [ ! -x /usr/bin/chromium ]; then need+=(chromium); fi
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq "${need[@]}"
  else
    echo "bootstrap: please install ${need[*]} with your system's package manager" >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel
.venv/bin/python -m pip install -q -e ".[${extras}]"
echo "bootstrap: ready (.venv, extras: ${extras})"
