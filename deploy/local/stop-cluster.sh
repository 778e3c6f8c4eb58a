#!/usr/bin/env bash
# Stops the nodes started by start-cluster.sh: trainers first, then the controller, then the seed (SIGTERM, so
# each leaves the cluster cleanly). A node still running 15 s after SIGTERM is killed, and the script exits 1.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-$root/run}"
status=0
# an exited node whose parent is gone stays a zombie where nothing reaps orphans (some container inits): not running
running() { local state; state=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $state != Z* ]]; }
for name in $(ls "$dir" | grep -E '^trainer-.*\.pid$' | sed 's/\.pid$//') controller seed; do
  [ -f "$dir/$name.pid" ] || continue
  pid=$(cat "$dir/$name.pid")
  if running "$pid" && kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 30); do running "$pid" || break; sleep 0.5; done
    if running "$pid" && kill -KILL "$pid" 2>/dev/null; then
      echo "$name (pid $pid) did not stop within 15 s of SIGTERM: killed" >&2
      status=1
    fi
  fi
  rm -f "$dir/$name.pid"
done
exit $status
