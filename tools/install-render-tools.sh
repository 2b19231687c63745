#!/bin/sh
# The diagram tools that render the ladder's text outputs in the tests (and chromium for
# the HTML report tests):
#   plantuml, mscgen, chromium   Debian packages (apt-get, as root)
#   mmdc (Mermaid CLI)           npm, pinned in tools/package-lock.json, installed under
#                                tools/node_modules; it drives /usr/bin/chromium through
#                                tools/puppeteer-config.json and never downloads a browser
# Idempotent and quiet: once everything is there it only checks, in well under a second.
# Without root, apt-get or npm it prints one line and goes on: the tests that need a
# missing tool then skip (and fail under CI=true).
set -u
tools=$(cd "$(dirname "$0")" && pwd)
note() { echo "render-tools: $*"; }

# -- Debian packages ---------------------------------------------------------------------
packages="plantuml mscgen chromium fonts-dejavu-core fonts-liberation2"
missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for p in $packages; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing="$missing $p"
  done
else
  for p in plantuml mscgen chromium; do
    command -v "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    note "installing$missing (apt-get)"
    if ! { apt-get update -qq >/dev/null &&
           DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
             $missing >/dev/null; }; then
      note "apt-get install$missing failed: the tests needing them will be skipped"
    fi
  else
    note "missing$missing (not root or no apt-get): the tests needing them will be skipped"
  fi
fi

# -- Mermaid CLI (npm) -------------------------------------------------------------------
# Reinstalled only when package.json or package-lock.json changed since the last install.
stamp="$tools/node_modules/.render-tools-installed"
if [ -x "$tools/node_modules/.bin/mmdc" ] && [ -f "$stamp" ] &&
   [ ! "$tools/package.json" -nt "$stamp" ] && [ ! "$tools/package-lock.json" -nt "$stamp" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  note "installing npm (apt-get)"
  { apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      nodejs npm >/dev/null; } || true
fi
if ! command -v npm >/dev/null 2>&1; then
  note "npm missing: Mermaid CLI not installed, the Mermaid rendering tests will be skipped"
  exit 0
fi
note "installing the Mermaid CLI under tools/node_modules (npm ci)"
# Puppeteer must not fetch a browser (the network blocks it; Debian's chromium is used).
export PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROME_DOWNLOAD=1 \
  PUPPETEER_SKIP_CHROME_HEADLESS_SHELL_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1 \
  PUPPETEER_EXECUTABLE_PATH=/usr/bin/chromium
if npm ci --prefix "$tools" --ignore-scripts --no-audit --no-fund --loglevel=error \
     >/dev/null 2>"$tools/npm-install.log"; then
  touch "$stamp"
  rm -f "$tools/npm-install.log"
else
  note "npm ci failed (see tools/npm-install.log): the Mermaid rendering tests will be skipped"
fi
exit 0
