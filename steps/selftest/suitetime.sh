#!/usr/bin/env bash
# The whole suite RUNS times (default 3) against the built-in reference,
# one run after another; prints each run's wall time, the CPU time the
# whole machine spent meanwhile (from /proc/stat, so Chromium's processes
# count too) and the verdicts, then the median wall time. Run it on an
# otherwise idle machine: the CPU figure includes everything that runs.
#
#   make suite-time            # RUNS=3
#   RUNS=5 make suite-time
#   CHROMIUM=/usr/lib/chromium/chromium make suite-time   # another browser
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

runs=${RUNS:-3}
out=${SUITETIME_REPORT:-reports/suite-time}
go=${GO:-go}

mkdir -p "$out"
"$go" build -o "$out/oauthtrio" ./cmd/oauthtrio || exit 2

# busy prints the CPU time the machine has spent outside idle and I/O
# wait, in hundredths of a second.
busy() {
	local _ user nice system _idle _iowait irq softirq steal
	read -r _ user nice system _idle _iowait irq softirq steal _ </proc/stat
	echo $((user + nice + system + irq + softirq + steal))
}

echo "suite-time: $runs whole-suite runs, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), browser ${CHROMIUM:-the default}"
walls=()
for i in $(seq 1 "$runs"); do
	dir="$out/run-$i"
	b0=$(busy)
	t0=$(date +%s%N)
	"$out/oauthtrio" check --report "$dir" --quiet ${CHROMIUM:+--chromium "$CHROMIUM"} >"$dir.log" 2>&1
	rc=$?
	t1=$(date +%s%N)
	b1=$(busy)
	wall_ms=$(((t1 - t0) / 1000000))
	walls+=("$wall_ms")
	printf 'run %d/%d: exit %d, %d.%01d s wall, %d s CPU: %s\n' "$i" "$runs" "$rc" \
		$((wall_ms / 1000)) $((wall_ms % 1000 / 100)) $(((b1 - b0) / 100)) \
		"$(grep -m1 ' scenarios: ' "$dir.log" || echo "no summary")"
done
median=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p")
printf 'suite-time: median %d.%01d s wall over %d runs\n' $((median / 1000)) $((median % 1000 / 100)) "$runs"
