#!/bin/bash
# Side-by-side CPU time of one `targets add`, old code against new, on the same repository (issue #12).
#   OLD_BIN=/path/to/old/bin/run.js NEW_BIN=bin/run.js bench/ab-single-add.sh REPO PAIRS TAG
# REPO is a workspace made by bench/delegations-bench.ts (bench/data/delegations/{small,large}), copied first:
# each run adds one new target with only the online secret. Output: TAG.times, one line per run:
#   SIDE WALL_S USER_S SYS_S PEAK_KIB   (CPU seconds = USER + SYS), with the load average before and after.
set -euo pipefail
repo=$1; n=$2; tag=$3
: "${OLD_BIN:?path of the old CLI}" "${NEW_BIN:?path of the new CLI}"
export TUFSIGN_PASSPHRASE=${TUFSIGN_PASSPHRASE:-bench-only-passphrase} NO_COLOR=1
unset TUFSIGN_OFFLINE_PASSPHRASE TUFSIGN_NOW
out=$tag.times
echo "load $(cut -d' ' -f1-3 /proc/loadavg)" > "$out"
tmp=$(mktemp -d)
for i in $(seq 1 "$n"); do
  for side in old new; do
    if [ "$side" = old ]; then bin=$OLD_BIN; else bin=$NEW_BIN; fi
    echo "ab $tag $side $i" > "$tmp/$side-$i.whl"
    /usr/bin/time -f "$side %e %U %S %M" -a -o "$out" node "$bin" targets add "$tmp/$side-$i.whl" \
      --path "packages/ab-$tag-$side-$i/x.whl" -w "$repo" --json > /dev/null
  done
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out"
rm -rf "$tmp"
