#!/bin/sh
# Makes sure tshark (the reference reading of the sensor's test pcaps) and tcpdump (BPF filter
# compilation for --filter) are available for the test suites (npm's `pretest`). Installs the Debian
# packages when running as root; otherwise prints what to do and lets the suites that need them skip
# with a notice, since the rest of the suite does not depend on them.
set -eu

missing=""
command -v tshark >/dev/null 2>&1 || missing="$missing tshark"
command -v tcpdump >/dev/null 2>&1 || missing="$missing tcpdump"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing capture tools for the sensor tests:$missing" >&2
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
  exit 0
fi

echo "notice:$missing not found: sensor tests that compare with them will skip (apt-get install$missing)" >&2
exit 0
