#!/usr/bin/env bash
# The main job end to end on the embedded default (encrypted key files, no hardware):
# create a repository, add a target file, verify it, print the status table.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tufsign() { node "$here/bin/run.js" "$@"; }
work=${1:-$(mktemp -d -t tufsign-demo-XXXXXX)}
mkdir -p "$work"
pass="$work/passphrase"
if [ -z "${TUFSIGN_PASSPHRASE:-}" ] && [ ! -f "$pass" ]; then
  # A random passphrase in a 0600 file, so the demo runs unattended without a secret in argv or logs.
  (umask 077; head -c 24 /dev/urandom | base64 > "$pass")
fi
pf=(); [ -z "${TUFSIGN_PASSPHRASE:-}" ] && pf=(--passphrase-file "$pass")
# root is offline by default: its key file goes to repo/offline-keys/ under a passphrase of its own
offline="$work/offline-passphrase"
of=()
if [ -z "${TUFSIGN_OFFLINE_PASSPHRASE:-}" ]; then
  [ -f "$offline" ] || (umask 077; head -c 24 /dev/urandom | base64 > "$offline")
  of=(--offline-passphrase-file "$offline")
fi
echo "== tufsign init $work/repo" >&2
tufsign init "$work/repo" --yes "${pf[@]}" "${of[@]}"
echo "hello from tufsign $(date -u +%FT%TZ)" > "$work/hello.txt"
echo "== tufsign targets add hello.txt" >&2
tufsign targets add "$work/hello.txt" -w "$work/repo" "${pf[@]}"
echo "== tufsign verify" >&2
tufsign verify "$work/repo"
echo "== tufsign status" >&2
tufsign status "$work/repo"
echo "demo workspace: $work/repo (online key passphrase in ${pf[1]:-TUFSIGN_PASSPHRASE}; offline root key passphrase in ${of[1]:-TUFSIGN_OFFLINE_PASSPHRASE})" >&2
