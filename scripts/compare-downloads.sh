#!/usr/bin/env bash
# compare-downloads.sh [RUNS]
#
# Phase one against curl on the same URLs: `thumbnail-maker serve --latency 100` serves the
# bundled samples on loopback; 64 URLs (each sample under 8 query strings) are fetched by
# `curl --parallel --parallel-immediate --parallel-max N`, saving each body to a file as
# thumbnail-maker does (hyperfine, whole command), and by thumbnail-maker -d N
# (the download phase's own time from --json), for N = 1, 8 and 32.
# The ideal is ceil(64 / N) x 0.1 s plus transfer. Needs curl, hyperfine, python3.
set -euo pipefail
RUNS=${1:-5}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TM="$HERE/target/release/thumbnail-maker"
(cd "$HERE" && cargo build --release --locked -q)
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
"$TM" serve --latency 100 > "$WORK/base.txt" 2>/dev/null &
SERVER=$!
sleep 0.5
for c in 0 1 2 3 4 5 6 7; do sed "s/\$/?copy=$c/" "$WORK/base.txt"; done > "$WORK/urls.txt"
echo "$(wc -l < "$WORK/urls.txt") URLs, 100 ms latency"
mkdir -p "$WORK/curl"
ARGS=$(awk -v d="$WORK/curl" '{ printf "-o %s/%d.jpg %s ", d, NR, $0 }' "$WORK/urls.txt")
for N in 1 8 32; do
  hyperfine --style none --runs "$RUNS" --export-json "$WORK/curl-$N.json" \
    "curl -s -Z --parallel-immediate --parallel-max $N $ARGS" > /dev/null
  for r in $(seq "$RUNS"); do
    "$TM" -i "$WORK/urls.txt" -d "$N" --incoming "$WORK/in" -o "$WORK/out" --force -q --json \
      -s 32 > "$WORK/tm-$N-$r.json"
  done
  python3 - "$WORK" "$N" "$RUNS" <<'PY'
import json, math, statistics, sys
work, n, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
curl = json.load(open(f"{work}/curl-{n}.json"))["results"][0]["times"]
tm = [json.load(open(f"{work}/tm-{n}-{r}.json"))["download"]["seconds"] for r in range(1, runs + 1)]
print(f"N={n:>2}: curl median {statistics.median(curl):.3f} s ({min(curl):.3f}-{max(curl):.3f}), "
      f"thumbnail-maker download phase median {statistics.median(tm):.3f} s ({min(tm):.3f}-{max(tm):.3f}), "
      f"ideal latency alone {math.ceil(64 / n) * 0.1:.1f} s")
PY
done
