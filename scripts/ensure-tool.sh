#!/usr/bin/env bash
# Installs Debian's package for a command when the command is missing (for the bench scripts):
#   scripts/ensure-tool.sh COMMAND [PACKAGE]     PACKAGE defaults to COMMAND
# Tries with the package lists at hand first, then refreshes them once.
set -euo pipefail
tool=$1
package=${2:-$1}
command -v "$tool" >/dev/null 2>&1 && exit 0
echo "installing $package" >&2
sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
$sudo_ apt-get install -y -qq "$package" >/dev/null 2>&1 \
  || { $sudo_ apt-get update -qq >/dev/null && $sudo_ apt-get install -y -qq "$package" >/dev/null; }
