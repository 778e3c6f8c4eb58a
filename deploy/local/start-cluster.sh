#!/usr/bin/env bash
# Starts a seed, a controller and N trainers on this machine in the background, each logging to $DIR/<node>.log.
# Usage: deploy/local/start-cluster.sh [DIR] [TRAINERS]      Stop with deploy/local/stop-cluster.sh [DIR]
# Remoting runs TLS with the cluster certificate $DIR/cluster.pfx (made on first start, owner-only, no password):
# only processes that can read that file can join.
# AUTODROPOUT_BIN=DIR runs the autodropout.dll and autodropout-seed.dll built or published there instead of
# building this checkout (Release) first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-$root/run}"
trainers="${2:-2}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
export AUTODROPOUT_HOME="$dir" OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1
seed_port="${AUTODROPOUT_SEED_PORT:-4053}"
cmd_port="${AUTODROPOUT_CMD_PORT:-9110}"
bin="${AUTODROPOUT_BIN:-}"
if [ -z "$bin" ]; then
  "$root/autodropout" data info >/dev/null   # builds once, before the nodes start in parallel
  bin="$root/src/AutoDropout.Cli/bin/Release/net10.0"
fi
bin="$(cd "$bin" && pwd)"
[ -f "$dir/cluster.pfx" ] || dotnet "$bin/autodropout.dll" tls make-cert --out "$dir/cluster.pfx" --name autodropout-local >/dev/null
export AUTODROPOUT_TLS_CERT="$dir/cluster.pfx"
printf 'seed_port=%s\ncmd_port=%s\nbin=%s\n' "$seed_port" "$cmd_port" "$bin" > "$dir/cluster.env"
# the seed is its own executable (no torch), built next to the CLI
nohup dotnet "$bin/autodropout-seed.dll" --port "$seed_port" --cmd-port -1 >> "$dir/seed.log" 2>&1 &
echo $! > "$dir/seed.pid"
"$(dirname "${BASH_SOURCE[0]}")/start-controller.sh" "$dir"
for i in $(seq 1 "$trainers"); do
  nohup dotnet "$bin/autodropout.dll" node trainer --seed-nodes "127.0.0.1:$seed_port" --cmd-port -1 --devices cpu \
    >> "$dir/trainer-$i.log" 2>&1 &
  echo $! > "$dir/trainer-$i.pid"
done
echo "cluster starting in $dir; commands: $root/autodropout --endpoint 127.0.0.1:$cmd_port cluster show"
echo "token: $dir/token (AUTODROPOUT_HOME=$dir); cluster certificate: $dir/cluster.pfx"
