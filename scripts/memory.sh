#!/usr/bin/env bash
# memory.sh [WORK_DIR]: peak memory of a run against the length of its list.
#
# Two workloads, each at two lengths, one run per row, peak RSS by /usr/bin/time -f %M:
#   - URLs that fail at once (a closed port, -d 32 --retries 0, --report): 1,000,000 and
#     2,000,000 inputs. Nothing is fetched; what grows, if anything, is what the run keeps
#     per input (jobs, failures, the report).
#   - tiny local JPEGs (96x64, one size, -s 32): 1,000 and 100,000 real thumbnails.
# Needs a release build (cargo build --release), GNU time and python3 (no packages). The
# 100,000 images take about 400 MB of disk in WORK_DIR (default /tmp/tm-memory).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/target/release/thumbnail-maker"
work=${1:-/tmp/tm-memory}
mkdir -p "$work"
cd "$work"

for n in 1000000 2000000; do
    [ -f "fail$n.txt" ] || seq 0 $((n - 1)) | sed "s|.*|http://127.0.0.1:1/a/&.jpg|" >"fail$n.txt"
done

# One tiny JPEG, made by the tool from a bundled sample, copied 100,000 times.
if [ ! -f tiny.jpg ]; then
    rm -rf tiny && "$bin" "$here/assets/samples/wine.jpg" -o tiny -s 96 -q
    cp tiny/wine_96.jpg tiny.jpg
fi
for n in 1000 100000; do
    if [ ! -f "img$n.txt" ]; then
        mkdir -p "img$n"
        python3 -c "
import shutil, sys
n, d = int(sys.argv[1]), sys.argv[2]
data = open('tiny.jpg', 'rb').read()
with open(f'img{n}.txt', 'w') as f:
    for i in range(n):
        open(f'{d}/{i}.jpg', 'wb').write(data)
        f.write(f'{d}/{i}.jpg\n')
" "$n" "$work/img$n"
    fi
done

# Thumbnails and downloads go to tmpfs where there is one: on a disk, the write-back of one
# run's 100,000 files slows the next one by as much as 3x, which is the disk, not the tool.
scratch=$work
[ -d /dev/shm ] && scratch=/dev/shm/tm-memory
measure() {
    local label=$1
    shift
    rm -rf "$scratch/out" "$scratch/in"
    /usr/bin/time -o time.txt -f "%e %M" "$@" >/dev/null 2>&1 || true
    read -r secs kb < <(tail -n 1 time.txt)
    printf '| %s | %s s | %d MB |\n' "$label" "$secs" $((kb / 1000))
}

echo "| workload | wall | peak RSS |"
echo "|---|---:|---:|"
for n in 1000000 2000000; do
    measure "$n URLs failing at once" "$bin" -i "fail$n.txt" -o "$scratch/out" --incoming "$scratch/in" -d 32 \
        --retries 0 --report report.json -q
done
for n in 1000 100000; do
    measure "$n tiny JPEGs" "$bin" -i "img$n.txt" -o "$scratch/out" -s 32 -q
done
rm -rf "$scratch/out" "$scratch/in"
