#!/bin/sh
# Makes sure a nats-server binary is available for the test suites (npm's `pretest`) and for a fresh
# checkout (README). Same search order as findNatsServer() in src/roles/io/nats-server.ts:
# $DSIEM_NATS_SERVER, then PATH, then /usr/sbin/nats-server and /usr/local/bin/nats-server.
# Installs the Debian package when running as root; otherwise says what to do and fails.
set -eu

INSTRUCTION='nats-server not found: install it (apt-get install nats-server) or set DSIEM_NATS_SERVER'

found() {
  # Quiet on success: this runs before every `npm test`.
  exit 0
}

if [ -n "${DSIEM_NATS_SERVER:-}" ]; then
  if [ -f "$DSIEM_NATS_SERVER" ] && [ -x "$DSIEM_NATS_SERVER" ]; then
    found "$DSIEM_NATS_SERVER"
  fi
  # An explicit choice that does not work is an error, not a reason to install another binary.
  echo "DSIEM_NATS_SERVER=$DSIEM_NATS_SERVER is not an executable file" >&2
  exit 1
fi

if command -v nats-server >/dev/null 2>&1; then
  found "$(command -v nats-server)"
fi
for candidate in /usr/sbin/nats-server /usr/local/bin/nats-server; do
  if [ -f "$candidate" ] && [ -x "$candidate" ]; then
    found "$candidate"
  fi
done

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "nats-server not found: installing the nats-server package" >&2
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y nats-server
  if [ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null 2>&1; then
    exit 0
  fi
fi

echo "$INSTRUCTION" >&2
exit 1
