#!/bin/bash
# A 4 GiB sparse image with 64 MiB of data: backup, restore, compare, against cp --sparse=always.
# usage: bench/sparse-bench.sh [DRIVESEED_ROOT] (run it under flock /tmp/driveseed-bench.lock)
set -e
ROOT=${1:-$(dirname "$0")/..}; W=$(mktemp -d /tmp/driveseed-sparse-bench.XXXXXX)
trap "rm -rf $W" EXIT
mkdir -p $W/src
echo pw > $W/pw
export DRIVESEED_PASSWORD=pw
# 4 GiB sparse file, 64 MiB of random data in 16 extents of 4 MiB spread over it
truncate -s 4G $W/src/disk.img
for i in $(seq 0 15); do dd if=/dev/urandom of=$W/src/disk.img bs=1M count=4 seek=$((i*256+7)) conv=notrunc status=none; done
stat -c 'source: size=%s blocks=%b' $W/src/disk.img
node $ROOT/bin/driveseed.js init --repo $W/repo >/dev/null
/usr/bin/time -f 'backup: %e s wall, %U user %S sys, maxrss %M KB' node $ROOT/bin/driveseed.js backup --repo $W/repo --json $W/src > $W/backup.json
node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1])); console.log(JSON.stringify(s.summary ?? s))' $W/backup.json
du -sb $W/repo | sed 's/^/repo bytes: /'
/usr/bin/time -f 'restore: %e s wall, %U user %S sys' node $ROOT/bin/driveseed.js restore --repo $W/repo latest --target $W/out >/dev/null
stat -c 'restored: size=%s blocks=%b' $W/out$W/src/disk.img
cmp $W/src/disk.img $W/out$W/src/disk.img && echo equal
/usr/bin/time -f 'cp --sparse=always: %e s' cp --sparse=always $W/src/disk.img $W/cp.img
