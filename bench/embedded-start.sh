#!/usr/bin/env bash
# Start time and memory of the compiled server on the embedded database (docs/PERFORMANCE.md, "Embedded start").
# Alternates a first start on a new directory and a restart of that directory; prints startup_ms (process uptime
# when it listens, from the "Loket is listening" line), CPU time until then, resident memory one second later.
#   npm run build && bash bench/embedded-start.sh [RUNS]
#   BENCH_SPARE=1 …   runs `loket db prepare` (untimed) before each first start, as `npm install` leaves it
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-4}
port=${PORT:-18800}
node=node_modules/.bin/node
[ -f dist/src/main.js ] || { echo "run npm run build first" >&2; exit 1; }

start() { # directory, label
  local log pid ms cpu rss
  log=$(mktemp)
  LOKET_DATA_DIR="$1" PORT="$port" LOG_LEVEL=info "$node" --liftoff-only --max-semi-space-size=1 \
    --heap-growing-percent=100 dist/src/main.js serve >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do grep -q "Loket is listening" "$log" && break; sleep 0.05; done
  cpu=$(awk '{print ($14 + $15) * 10}' "/proc/$pid/stat")
  ms=$(grep -o '"startup_ms":[0-9]*' "$log" | head -n1 | cut -d: -f2)
  sleep 1
  rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  rm -f "$log"
  echo "$2 startup_ms=$ms cpu_ms=$cpu rss_mb=$rss load=$(cut -d' ' -f1 /proc/loadavg)"
}

for _ in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  rmdir "$dir"
  if [ -n "${BENCH_SPARE:-}" ]; then
    LOG_LEVEL=warn "$node" --liftoff-only dist/src/main.js db prepare >/dev/null
  fi
  start "$dir" first
  start "$dir" restart
  rm -rf "$dir"
done
