#!/usr/bin/env bash
# (Re)starts the controller of a cluster made by start-cluster.sh, on the same journal and command port; e.g.
# after `kill -9 $(cat DIR/controller.pid)`, to watch a search carry on where it stopped.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-$root/run}"
bin="$root/src/AutoDropout.Cli/bin/Release/net10.0"
# shellcheck disable=SC1091
source "$dir/cluster.env"
export AUTODROPOUT_HOME="$dir" OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 AUTODROPOUT_TLS_CERT="$dir/cluster.pfx"
nohup dotnet "$bin/autodropout.dll" node controller --seed-nodes "127.0.0.1:$seed_port" --cmd-port "$cmd_port" \
  --db "$dir/autodropout.db" >> "$dir/controller.log" 2>&1 &
echo $! > "$dir/controller.pid"
