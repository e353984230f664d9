#!/usr/bin/env bash
# Regenerates every table in results/. Each file starts with the command that
# made it. Liveness is checked by default since the end of 2026; the results
# made before that carry --liveness=false, which makes them again as they
# were. Takes about three hours and a half on two cores: forty minutes
# minimizing thirty 2,000-event failures, two hours of campaigns, the rest case
# studies and strategies. `results/regenerate.sh liveness` makes the liveness
# results alone (about twenty minutes), `results/regenerate.sh clients`
# the client histories' (about ten minutes), `results/regenerate.sh speed`
# swarm testing and the real-clock baseline (about forty minutes),
# `results/regenerate.sh etcd` etcd's raft library (about an hour and ten
# minutes; `etcd-campaigns` its campaigns alone),
# `results/regenerate.sh bisect` the findings across hashicorp/raft releases.
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

bench() { # file, benchmark: BenchmarkWalk and it, interleaved, median of 5
	echo "== $1" >&2
	go test -c -o "$tmp/fuzz.test" ./fuzz
	{ echo "\$ go test -c -o fuzz.test ./fuzz; cd fuzz; for i in 1 2 3 4 5; do for b in 'BenchmarkWalk\$' '$2\$'; do ../fuzz.test -test.run '^\$' -test.bench \"\$b\" -test.count 1; done; done"
	  echo "(interleaved, so that the machine's noise falls on both alike)"; echo
	  for i in 1 2 3 4 5; do for b in 'BenchmarkWalk$' "$2\$"; do
		( cd fuzz && "$tmp/fuzz.test" -test.run '^$' -test.bench "$b" -test.count 1 ) | grep Benchmark
	  done; done
	} > "$out/$1"
}
liverun() { # file, fuzz flags... (the header leaves --out out, as the files do)
	local file=$1; shift
	echo "== $file" >&2
	{ echo "\$ faultline fuzz --strategy random $*"; echo; ( cd "$tmp" && "$bin" fuzz --strategy random "$@" --out found ) || true; } > "$out/$file"
}

campaign() { # file, minutes, target, flags... (workers=N before it: 2 unless said)
	local file=$1 minutes=$2 target=$3 workers=${workers:-2}; shift 3
	echo "== $file" >&2
	local dir="$tmp/campaign-$target"
	{ echo "\$ faultline campaign start --strategy random --target $target --dir DIR --workers $workers --time ${minutes}m $*"; echo
	  "$bin" campaign start --strategy random --target "$target" --dir "$dir" --workers "$workers" --time "${minutes}m" "$@" 2>/dev/null | sed "s|$dir|DIR|g" || true
	  echo; echo "\$ faultline campaign status --dir DIR --json"
	  "$bin" campaign status --dir "$dir" --json | sed "s|$dir|DIR|g"
	  for id in $("$bin" campaign list --dir "$dir" | sed -n 's/^│ \([0-9a-f]\{10\}\) .*/\1/p'); do
		echo; echo "\$ faultline campaign show --dir DIR $id"
		"$bin" campaign show --dir "$dir" "$id" | sed "s|$dir|DIR|g"
	  done
	} > "$out/$file"
	mkdir -p "$out/campaign-$target"
	rm -f "$out/campaign-$target"/*
	for v in "$dir"/violations/*/; do
		id=$(basename "$v")
		[ -f "$v/report.md" ] && cp "$v/report.md" "$out/campaign-$target/$id.md"
		[ -f "$v/minimized.json" ] && cp "$v/minimized.json" "$out/campaign-$target/$id.min.json"
	done
}
swarm() {
# Swarm testing and guided search against the random walk on every target with a bug: the
# safety bugs without the stabilization phase, the liveness bugs with it.
echo "== strategies-swarm.md, strategies-etcd.md, strategies-swarm-liveness.md" >&2
"$bin" measure strategies --targets hraft,hraft-barrier-reads,hraft-forgetful,hraft-fulldisk,hraft-lossy-log,hraft-read-index,hraft-serial,hraft-stale-reads,hraft-verify-reads,pool-error-not-done,pool-no-etag,pool-resume-reallocates,raft-42,raft-45,raft-46,raft-56,raft-58a,raft-58b,raft-66,spark-2294,spark-3150,spark-9256 --strategies random,swarm,guided --seeds 1-5 --time 1m --out "$out/strategies-swarm.md" 2> /dev/null
"$bin" measure strategies --targets etcdraft-forgetful,etcdraft-lossy,etcdraft-async-lossy,etcdraft-lease,etcdraft-stay-leader,etcdraft-async --strategies random,swarm,guided --seeds 1-5 --time 1m --out "$out/strategies-etcd.md" 2> /dev/null
"$bin" measure strategies --targets pool-cancel-stuck,pool-forgets-delete,pool-scheduler-untold,raft-busy-leader,raft-nobackoff,raft-noretry --strategies random,swarm,guided --seeds 1-5 --time 30s --liveness --out "$out/strategies-swarm-liveness.md" 2> /dev/null
# Guided search's stepping stones: campaigns that want StateMachineSafety on the bugs that
# break another invariant first.
"$bin" measure strategies --targets raft-42,raft-58b,raft-66,hraft-lossy-log --strategies random,guided --want StateMachineSafety --seeds 1-5 --time 1m --out "$out/strategies-want.md" 2> /dev/null
}
etcd() {
# etcd's raft library: 10,000 runs of each option set, with and without kept faults.
for t in etcdraft etcdraft-prevote etcdraft-lease; do
	liverun fuzz-$t-seed1.txt --target $t --runs 10000 --keep-going --seed 1
	liverun fuzz-$t-permanent-seed1.txt --target $t --runs 10000 --keep-going --seed 1 --permanent
done
liverun fuzz-etcdraft-prevote-reads-seed1.txt --target etcdraft-prevote --reads 50 --runs 10000 --keep-going --seed 1
# Events/s beside hashicorp/raft's, interleaved.
bench bench-etcd.txt BenchmarkEtcdWalk
# Replay: 200 violating schedules of etcdraft-forgetful and of etcdraft-async-lossy, 10
# replays each.
run replay-etcdraft-forgetful.txt measure replay --target etcdraft-forgetful --violating --schedules 200 --repeat 10 --seed 1
run replay-etcdraft-async-lossy.txt measure replay --target etcdraft-async-lossy --violating --schedules 200 --repeat 10 --seed 1
# Each injected bug: time to the first violation over ten seeds, and the
# minimization of 2,000-event failures.
for t in etcdraft-forgetful etcdraft-lossy etcdraft-async-lossy; do
	run ttf-$t.txt measure ttf --strategy random --target $t --seeds 1-10
	run minimize-$t.md measure minimize --target $t --seeds 1-5 --budget 1m
done
etcdcampaigns
# AsyncStorageWrites and joint configurations, every fault kind kept too.
for t in etcdraft-async etcdraft-joint; do
	liverun fuzz-$t-seed1.txt --target $t --runs 10000 --keep-going --seed 1
	liverun fuzz-$t-permanent-seed1.txt --target $t --runs 10000 --keep-going --seed 1 --permanent
done
}
etcdcampaigns() {
# Campaigns: 30 minutes on each option set that matters, two side by side
# (one worker each), every fault kind the target draws.
workers=1 campaign campaign-etcdraft.txt 30 etcdraft &
workers=1 campaign campaign-etcdraft-joint.txt 30 etcdraft-joint &
wait
workers=1 campaign campaign-etcdraft-prevote.txt 30 etcdraft-prevote &
workers=1 campaign campaign-etcdraft-async.txt 30 etcdraft-async &
wait
}
baseline() {
# faultline beside the real-clock chaos test (a few minutes; nothing else running).
echo "== baseline.md" >&2
"$bin" measure baseline --target hraft-forgetful --seeds 1-10 --clusters 1,40 --strategies random,swarm --weights "" --weights crash=15,recover=30 --out "$out/baseline.md" 2> /dev/null
# The other hashicorp/raft bugs the baseline can see: a log store that loses an acknowledged
# batch (two state machines disagree; a restart raft refuses), hashicorp/raft#85 (a
# restart whose NewRaft panics), a full disk (raft panics).
echo "== baseline-hraft-lossy-log*.md, baseline-hraft-serial.md, baseline-hraft-fulldisk.md" >&2
"$bin" measure baseline --target hraft-lossy-log --invariant StateMachineSafety --seeds 1-5 --clusters 1,40 --strategies random,swarm --weights "" --weights crash=15,recover=30 --out "$out/baseline-hraft-lossy-log.md" 2> /dev/null
"$bin" measure baseline --target hraft-lossy-log --invariant NodeStarts --seeds 1-5 --clusters 1,40 --strategies random,swarm --weights "" --weights crash=15,recover=30 --out "$out/baseline-hraft-lossy-log-nodestarts.md" 2> /dev/null
"$bin" measure baseline --target hraft-serial --invariant NoPanic --seeds 1-5 --clusters 1,40 --strategies random,swarm --weights "" --weights crash=15,recover=30 --out "$out/baseline-hraft-serial.md" 2> /dev/null
"$bin" measure baseline --target hraft-fulldisk --invariant NoPanic --seeds 1-5 --clusters 1,40 --strategies random,swarm --weights "" --weights crash=15,recover=30 --out "$out/baseline-hraft-fulldisk.md" 2> /dev/null
# Five times the crash and recover weights on hraft-serial's #85: not sooner.
echo "== fuzz-hraft-serial-restart-heavy.txt" >&2
for s in 1 2 3 4 5; do
	echo "\$ faultline fuzz --strategy random --target hraft-serial --want NoPanic --liveness=false --seed $s --time 60s --weights crash=15,recover=30"
	( cd "$tmp" && "$bin" fuzz --strategy random --target hraft-serial --want NoPanic --liveness=false --seed $s --time 60s --weights crash=15,recover=30 --out heavy 2>&1 ) |
		grep -E "runs,|^NoPanic|^no violation|^  [a-z0-9]" | grep -v "schedule:\|show:\|replay:" || true
	echo
done > "$out/fuzz-hraft-serial-restart-heavy.txt"
# Longer runs, more writes: what swarm's depth draws came from.
echo "== fuzz-hraft-serial-depth.txt" >&2
for flags in "--events 1000" "--weights client=20" "--events 1000 --weights client=20"; do
	for s in 1 2 3 4 5; do
		echo "\$ faultline fuzz --strategy random --target hraft-serial --want NoPanic --liveness=false --seed $s --time 60s $flags"
		( cd "$tmp" && "$bin" fuzz --strategy random --target hraft-serial --want NoPanic --liveness=false --seed $s --time 60s $flags --out depth 2>&1 ) |
			grep -E "runs,|^NoPanic|^no violation" || true
		echo
	done
done > "$out/fuzz-hraft-serial-depth.txt"
}
liveness() {
# Liveness: each monitor on its injected-bug target, then each violation minimized.
for tw in "hraft-stuck-apply Liveness:Stuck" "raft-noretry Liveness:Leader" "raft-busy-leader Liveness:Accepts" "raft-nobackoff Liveness:Commit"; do
	set -- $tw
	run ttf-$1.txt measure ttf --strategy random --target $1 --liveness --want $2 --seeds 1-10
	( cd "$tmp" && "$bin" fuzz --strategy random --target $1 --liveness --want $2 --out live > /dev/null ) || true
	f=$(ls "$tmp"/live/$1-*.json | head -1)
	cp "$f" results/found/
	"$bin" minimize "results/found/$(basename "$f")" --out results/report/$1.min.json --budget 3m || true
done
# Liveness on hraft-serial: kept faults, storage faults, both, and a campaign.
liverun fuzz-hraft-serial-permanent-seed1.txt --target hraft-serial --runs 2000 --events 300 --keep-going --liveness --permanent --seed 1
liverun fuzz-hraft-serial-disk-seed1.txt --target hraft-serial --runs 2000 --events 300 --keep-going --liveness --disk 3 --seed 1
liverun fuzz-hraft-serial-all-faults-seed1.txt --target hraft-serial --runs 2000 --events 300 --keep-going --liveness --permanent --disk 3 --seed 1
echo "== triage-hraft-serial-liveness.txt" >&2
{ for env in "TRIAGE_PERMANENT=1" "TRIAGE_DISK=3" "TRIAGE_PERMANENT=1 TRIAGE_DISK=3"; do
	echo "\$ TRIAGE_RUNS=2000 $env go test -count 1 -run 'Triage\$' -v ./internal/triage"
	env TRIAGE_RUNS=2000 $env go test -count 1 -run 'Triage$' -v ./internal/triage | grep -v '^=== \|^--- \|^PASS\|^ok \|^run [0-9]*$'
	echo
  done
} > "$out/triage-hraft-serial-liveness.txt"
echo "== campaign-hraft-serial-liveness.txt" >&2
{ echo "\$ faultline campaign start --strategy random --target hraft-serial --liveness --time 10m --dir DIR --workers 1"; echo
  "$bin" campaign start --strategy random --target hraft-serial --liveness --time 10m --dir "$tmp/cl" --workers 1 2>/dev/null | sed "s|$tmp/cl|DIR|g" || true
} > "$out/campaign-hraft-serial-liveness.txt"
bench bench-liveness.txt BenchmarkWalkLiveness
}
if [ "${1:-}" = liveness ]; then # the liveness results alone (about twenty minutes)
	liveness
	exit 0
fi

clients() {
# What clients see: stale reads found, minimized, reported.
for t in hraft-stale-reads hraft-verify-reads; do
	run ttf-$t.txt measure ttf --strategy random --target $t --want Linearizability --seeds 1-10
	( cd "$tmp" && "$bin" fuzz --strategy random --target $t --want Linearizability --out reads > /dev/null ) || true
	f=$(ls "$tmp"/reads/$t-*.json | head -1)
	cp "$f" results/found/
	"$bin" minimize "results/found/$(basename "$f")" --out results/report/$t.min.json --budget 3m > /dev/null || true
done
echo "== fuzz-hraft-barrier-reads-seed1.txt" >&2
{ echo "\$ faultline fuzz --strategy random --target hraft-barrier-reads --runs 2000 --events 300 --keep-going --seed 1"; echo
  ( cd "$tmp" && "$bin" fuzz --strategy random --target hraft-barrier-reads --runs 2000 --events 300 --keep-going --seed 1 --out found ) || true
} > "$out/fuzz-hraft-barrier-reads-seed1.txt"
# Reads through the log and by the read index, every fault kind on.
liverun fuzz-hraft-serial-reads-all-faults-seed1.txt --target hraft-serial --reads 50 --runs 2000 --events 300 --keep-going --permanent --disk 3 --seed 1
liverun fuzz-hraft-read-index-seed1.txt --target hraft-read-index --runs 2000 --events 300 --keep-going --seed 1
liverun fuzz-hraft-read-index-all-faults-seed1.txt --target hraft-read-index --runs 2000 --events 300 --keep-going --permanent --disk 3 --seed 1
bench bench-reads.txt BenchmarkWalkReads
}
bisects() {
# Each hashicorp/raft finding across every release since v1.1.0: its schedule
# replayed on each (--all), and where a schedule does not carry over, each
# release fuzzed afresh (bisected). Run from the repository, which it builds.
bis() { # file, schedule, flags...
	local file=$1; shift
	echo "== $file" >&2
	"$bin" bisect "$@" --out "$out/$file" > /dev/null 2>&1 || true
}
bis bisect-hraft-695-logmatching.md casestudies/testdata/hraft.min.json --all
bis bisect-hraft-695-logmatching-fuzz.md casestudies/testdata/hraft.min.json --fuzz 1m
bis bisect-hraft-695-candidate.md casestudies/testdata/found/hraft-candidate-late-vote.json --all
bis bisect-hraft-85.md results/found/hraft-NoPanic-raft-NewRaft-log-not-found-seed1-run434.json --all
bis bisect-hraft-85-fuzz.md results/found/hraft-NoPanic-raft-NewRaft-log-not-found-seed1-run434.json --fuzz 2m
bis bisect-hraft-635.md casestudies/testdata/found/hraft-serial-remove-self-no-election.min.json --all
bis bisect-hraft-forgetful.md casestudies/testdata/hraft-forgetful.min.json --all
bis bisect-hraft-forgetful-fuzz.md casestudies/testdata/hraft-forgetful.min.json --fuzz 20s --all
( cd "$tmp" && "$bin" fuzz --strategy random --target hraft-fulldisk --runs 5 --keep-going --liveness=false --out fulldisk > /dev/null 2>&1 ) || true
mkdir -p results/found
cp "$(ls "$tmp"/fulldisk/*.json | head -1)" results/found/hraft-fulldisk-NoPanic.json
bis bisect-hraft-fulldisk.md results/found/hraft-fulldisk-NoPanic.json --all
# A LeadershipTransfer future that never resolves, as v1.1.2 shows it without
# any storage fault (recorded by faultline built against v1.1.2, seed 2 run 6
# of hraft).
bis bisect-hraft-transfer-stuck.md results/found/hraft-v1.1.2-transfer-future-never-resolves.json --all
# The other upstream findings the README describes, minimized where a
# minimized schedule is kept.
bis bisect-hraft-transfer-stuck-slow-disk.md casestudies/testdata/found/hraft-serial-transfer-future-never-resolves.min.json --all
bis bisect-hraft-verify-after-shutdown.md casestudies/testdata/found/hraft-read-index-verify-after-shutdown-never-returns.min.json --all
bis bisect-hraft-stale-leader.md casestudies/testdata/found/hraft-serial-candidate-keeps-stale-leader.min.json --all
bis bisect-hraft-697.md casestudies/testdata/found/hraft-serial-follower-rejects-compacted.min.json --all
bis bisect-hraft-697-loop.md casestudies/testdata/found/hraft-serial-snapshot-loop.min.json --all
bis bisect-hraft-85-rollback-loop.md casestudies/testdata/found/hraft-serial-snapshot-rollback-loop.min.json --all
bis bisect-hraft-85-serial.md casestudies/testdata/found/hraft-serial-stale-snapshot.json --all
bis bisect-hraft-verify-reads.md results/found/hraft-verify-reads-Linearizability-seed1-run405.json --all
bis bisect-hraft-verify-reads-fuzz.md results/found/hraft-verify-reads-Linearizability-seed1-run405.json --fuzz 1m
}
if [ "${1:-}" = bisect ]; then # every finding across hashicorp/raft releases (about an hour)
	bisects
	exit 0
fi
if [ "${1:-}" = clients ]; then # what clients see alone (about ten minutes)
	clients
	exit 0
fi
if [ "${1:-}" = etcd ]; then # etcd's raft library alone (about an hour and ten minutes)
	etcd
	exit 0
fi
if [ "${1:-}" = etcd-campaigns ]; then # its campaigns alone (an hour)
	etcdcampaigns
	exit 0
fi
if [ "${1:-}" = speed ]; then # swarm testing and the real-clock baseline alone (about forty minutes)
	swarm
	baseline
	exit 0
fi
clients
etcd
baseline
bisects
run ttf-hraft-forgetful.txt measure ttf --strategy random --target hraft-forgetful --seeds 1-10 --liveness=false
run replay-hraft-forgetful.txt measure replay --target hraft-forgetful --violating --schedules 20 --repeat 10 --seed 1 --liveness=false
run replay-hraft-forgetful-100.txt measure replay --target hraft-forgetful --violating --schedules 100 --repeat 10 --seed 5 --liveness=false
run replay-hraft-forgetful-seeds.txt measure replay --target hraft-forgetful --violating --schedules 20 --repeat 10 --seeds 1-10 --liveness=false
run replay-hraft-forgetful-seeds11-20-once.txt measure replay --target hraft-forgetful --violating --schedules 20 --repeat 10 --seeds 11-20 --attempts 1 --liveness=false
run replay-hraft.txt measure replay --target hraft --schedules 20 --repeat 10 --liveness=false
run replay-hraft-serial.txt measure replay --target hraft-serial --schedules 20 --repeat 10 --liveness=false
for seed in 1 2 3; do
	fuzzrun fuzz-hraft-seed$seed.txt fuzz --strategy random --target hraft --runs 2000 --events 300 --keep-going --seed $seed --liveness=false --out results/found
	fuzzrun fuzz-hraft-serial-seed$seed.txt fuzz --strategy random --target hraft-serial --runs 2000 --events 300 --keep-going --seed $seed --liveness=false --out results/found
done
run minimize-hraft-forgetful.txt measure minimize --target hraft-forgetful --seeds 1-10 --budget 2m
echo "== minimize-hraft-forgetful-seed1.txt" >&2
( cd "$tmp" && "$bin" fuzz --strategy random --target hraft-forgetful --events 2000 --check-every 2000 --liveness=false --out long > /dev/null ) || true
{ echo "\$ faultline fuzz --strategy random --target hraft-forgetful --events 2000 --check-every 2000 --liveness=false --out long"
  echo "\$ faultline minimize long/hraft-forgetful-ElectionSafety-seed1-run0.json --budget 2m"; echo
  ( cd "$tmp" && "$bin" minimize long/hraft-forgetful-ElectionSafety-seed1-run0.json --budget 2m ) || true; } > "$out/minimize-hraft-forgetful-seed1.txt"
mkdir -p results/report
cp "$tmp/long/hraft-forgetful-ElectionSafety-seed1-run0.min.json" results/report/hraft-forgetful.min.json
"$bin" report results/report/hraft-forgetful.min.json --out results/report/hraft-forgetful.min.md > /dev/null
"$bin" report results/report/hraft-forgetful.min.json --format svg --out results/report/hraft-forgetful.min.svg > /dev/null
run minimize-hraft-forgetful-nodpor.txt measure minimize --target hraft-forgetful --seeds 1-10 --budget 2m --dpor -1 --compare=false
fuzzrun fuzz-raft-correct.txt fuzz --strategy random --target raft --runs 10000 --events 2000 --check-every 20 --check-from 1000 --liveness=false --out results/found
echo "== casestudies.md" >&2
"$bin" casestudy table --budget 4m --out results/casestudies.md > /dev/null
echo "== bench-actor-systems.txt" >&2
{ echo "\$ go test -run '^\$' -bench 'PoolWalk|SparkWalk' -count 5 ./casestudies"; echo
  go test -run '^$' -bench 'PoolWalk|SparkWalk' -count 5 ./casestudies | grep Benchmark; } > "$out/bench-actor-systems.txt"
echo "== bench-cost.txt" >&2
{ echo "# Where a walk's CPU time goes (measure.Costs over a CPU profile of the walk; each sample goes to its"
  echo "# innermost function outside Go's standard library). Commit $(git rev-parse --short HEAD), $(nproc)-core machine, $(date -u +%Y-%m-%d)."
  sed -n '3,7p' results/bench-cost.txt
  for b in "fuzz ^BenchmarkWalkCost\$ 600x" "fuzz ^BenchmarkEtcdWalkCost\$ 3000x" "casestudies ^BenchmarkActorRaftWalkCost\$ 20000x"; do
	set -- $b
	echo "\$ cd $1; go test -run '^\$' -bench '$2' -count 3 -benchtime $3"
  done; echo
  for b in "fuzz ^BenchmarkWalkCost\$ 600x" "fuzz ^BenchmarkEtcdWalkCost\$ 3000x" "casestudies ^BenchmarkActorRaftWalkCost\$ 20000x"; do
	set -- $b
	go test -run '^$' -bench "$2" -count 3 -benchtime "$3" "./$1" 2>&1 | grep -E 'Cost-|\.go:'
  done; } > "$out/bench-cost.txt.new" && mv "$out/bench-cost.txt.new" "$out/bench-cost.txt"
echo "== bench.txt" >&2
{ echo "\$ go test -run '^\$' -bench . -count 5 ./fuzz ./interpose/hraft ./interpose/actor ./invariants ./casestudies"; echo
  go test -run '^$' -bench . -count 5 ./fuzz ./interpose/hraft ./interpose/actor ./invariants ./casestudies; } > "$out/bench.txt"
echo "== minimize-hraft-fulldisk-crash.txt" >&2
( cd "$tmp" && "$bin" fuzz --strategy random --target hraft-fulldisk --runs 5 --keep-going --liveness=false --out crash > /dev/null ) || true
crashfile=$(ls "$tmp"/crash/*NoPanic-crash*.json | head -1)
{ echo "\$ faultline fuzz --strategy random --target hraft-fulldisk --runs 5 --keep-going --liveness=false --out crash"
  echo "\$ faultline minimize crash/$(basename "$crashfile") --budget 2m"; echo
  ( cd "$tmp" && "$bin" minimize "$crashfile" --budget 2m ) | sed "s|$tmp/||g" || true; } > "$out/minimize-hraft-fulldisk-crash.txt"

# Campaigns (about an hour): throughput with 1 and 2 workers, a 10-minute
# campaign on hraft-forgetful, 30 minutes of hraft for memory, and the time
# to the first violation of each strategy on every target with a bug.
run campaign-scaling-raft.txt measure scaling --target raft --time 30s --repeat 3
run campaign-scaling-hraft-forgetful.txt measure scaling --target hraft-forgetful --time 30s --repeat 3
campaign campaign-hraft-forgetful.txt 10 hraft-forgetful --liveness=false
liveness
campaign campaign-hraft-30m.txt 30 hraft --minimize-budget 5m --liveness=false
echo "== strategies-pool.md, fuzz-pool-correct.txt" >&2
"$bin" measure strategies --targets pool-resume-reallocates,pool-no-etag,pool-error-not-done,pool-forgets-delete,pool-cancel-stuck,pool-scheduler-untold --seeds 1-5 --time 1m --liveness --out "$out/strategies-pool.md" 2> /dev/null
liverun fuzz-pool-correct.txt --target pool --runs 10000 --keep-going --seed 1
liverun fuzz-spark-correct.txt --target spark --runs 10000 --keep-going --seed 1
swarm
echo "== strategies.md" >&2
"$bin" measure strategies --seeds 1-3 --time 2m --out "$out/strategies.md" 2> /dev/null
