#!/usr/bin/env bash
# The headless browser of the dashboard tests: Debian's chromium package (Playwright drives it through
# executable_path=/usr/bin/chromium; `playwright install` is never run, it would download a browser build).
# Does nothing when chromium is there; says why when it cannot install it (the browser tests then skip).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[install_browser] no apt-get here: install chromium yourself for the dashboard tests" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "[install_browser] not root and no sudo: cannot install chromium" >&2
    exit 1
  fi
fi
echo "[install_browser] installing Debian's chromium for the dashboard tests" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version >&2
