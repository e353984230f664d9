#!/usr/bin/env bash
# Regenerates every table in results/. Each file starts with the command that
# made it. Takes about forty minutes on two cores, most of it minimizing
# thirty 2,000-event failures.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/faultline
go build -o "$bin" ./cmd/faultline
out=results
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() { # file, command...
	local file=$1; shift
	echo "== $file" >&2
	( cd "$tmp" && "$bin" "$@" ) > "$out/$file" || true
}
fuzzrun() { # file, command... (fuzz does not print its command line)
	local file=$1; shift
	echo "== $file" >&2
	{ echo "\$ faultline $*"; echo; "$bin" "$@" || true; } > "$out/$file"
}

run ttf-hraft-forgetful.txt measure ttf --target hraft-forgetful --seeds 1-10
run replay-hraft-forgetful.txt measure replay --target hraft-forgetful --violating --schedules 20 --repeat 10 --seed 1
run replay-hraft-forgetful-100.txt measure replay --target hraft-forgetful --violating --schedules 100 --repeat 10 --seed 5
run replay-hraft.txt measure replay --target hraft --schedules 20 --repeat 10
run replay-hraft-serial.txt measure replay --target hraft-serial --schedules 20 --repeat 10
for seed in 1 2 3; do
	fuzzrun fuzz-hraft-seed$seed.txt fuzz --target hraft --runs 2000 --events 300 --keep-going --seed $seed --out results/found
	fuzzrun fuzz-hraft-serial-seed$seed.txt fuzz --target hraft-serial --runs 2000 --events 300 --keep-going --seed $seed --out results/found
done
run minimize-hraft-forgetful.txt measure minimize --target hraft-forgetful --seeds 1-10 --budget 2m
echo "== minimize-hraft-forgetful-seed1.txt" >&2
( cd "$tmp" && "$bin" fuzz --target hraft-forgetful --events 2000 --check-every 2000 --out long > /dev/null ) || true
{ echo "\$ faultline fuzz --target hraft-forgetful --events 2000 --check-every 2000 --out long"
  echo "\$ faultline minimize long/hraft-forgetful-ElectionSafety-seed1-run0.json --budget 2m"; echo
  ( cd "$tmp" && "$bin" minimize long/hraft-forgetful-ElectionSafety-seed1-run0.json --budget 2m ) || true; } > "$out/minimize-hraft-forgetful-seed1.txt"
mkdir -p results/report
cp "$tmp/long/hraft-forgetful-ElectionSafety-seed1-run0.min.json" results/report/hraft-forgetful.min.json
"$bin" report results/report/hraft-forgetful.min.json --out results/report/hraft-forgetful.min.md > /dev/null
"$bin" report results/report/hraft-forgetful.min.json --format svg --out results/report/hraft-forgetful.min.svg > /dev/null
run minimize-hraft-forgetful-nodpor.txt measure minimize --target hraft-forgetful --seeds 1-10 --budget 2m --dpor -1 --compare=false
fuzzrun fuzz-raft-correct.txt fuzz --target raft --runs 10000 --events 2000 --check-every 20 --check-from 1000 --out results/found
echo "== casestudies.md" >&2
"$bin" casestudy table --budget 4m --out results/casestudies.md > /dev/null
echo "== bench.txt" >&2
{ echo "\$ go test -run '^\$' -bench . -count 5 ./fuzz ./interpose/hraft ./interpose/actor ./invariants ./casestudies"; echo
  go test -run '^$' -bench . -count 5 ./fuzz ./interpose/hraft ./interpose/actor ./invariants ./casestudies; } > "$out/bench.txt"
