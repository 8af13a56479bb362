#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver when they are missing, and prints the `export`
# lines the browser tests read:
#   eval "$(scripts/setup-chromium.sh)"
# The UI tests (crates/nbw-cli/tests/ui.rs) drive chromium headless through chromedriver
# (WebDriver). Debian builds the two from one source package, so their versions always match;
# nothing is downloaded but Debian packages. fonts-liberation (chromium recommends it; installed
# here without the other recommends) gives pages and screenshots the usual sans-serif metrics.
set -euo pipefail

find_bin() { command -v "$1" 2>/dev/null || true; }
chromium=$(find_bin chromium)
driver=$(find_bin chromedriver)
if [ -z "$chromium" ] || [ -z "$driver" ] || ! dpkg -s fonts-liberation >/dev/null 2>&1; then
  echo "installing chromium, chromium-driver and fonts-liberation from Debian" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver fonts-liberation >&2
  chromium=$(find_bin chromium)
  driver=$(find_bin chromedriver)
fi

echo "export NBW_CHROMIUM='$chromium'"
echo "export NBW_CHROMEDRIVER='$driver'"
