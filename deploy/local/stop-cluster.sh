#!/usr/bin/env bash
# Stops the nodes started by start-cluster.sh: trainers first, then the controller, then the seed (SIGTERM, so
# each leaves the cluster cleanly).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-$root/run}"
for name in $(ls "$dir" | grep -E '^trainer-.*\.pid$' | sed 's/\.pid$//') controller seed; do
  [ -f "$dir/$name.pid" ] || continue
  pid=$(cat "$dir/$name.pid")
  kill -TERM "$pid" 2>/dev/null && for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null
  rm -f "$dir/$name.pid"
done
