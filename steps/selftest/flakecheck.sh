#!/usr/bin/env bash
# The whole suite RUNS times in a row against the reference while
# stress-ng keeps STRESS_CPU busy workers beside it (default 8: four per
# core on a 2-core machine), to show that no verdict depends on timing.
# Prints a line per run with its failures and warnings; exits 1 when any
# run failed or warned, 2 when it cannot start.
#
#   make flakecheck                    # RUNS=10 STRESS_CPU=8
#   RUNS=2 make flakecheck
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

runs=${RUNS:-10}
workers=${STRESS_CPU:-8}
out=${FLAKECHECK_REPORT:-reports/flakecheck}
go=${GO:-go}

command -v stress-ng >/dev/null || { echo "flakecheck: stress-ng is missing (apt-get install -y stress-ng)" >&2; exit 2; }
mkdir -p "$out"
"$go" build -o "$out/oauthtrio" ./cmd/oauthtrio || exit 2

stress-ng --cpu "$workers" --quiet &
stress=$!
trap 'kill "$stress" 2>/dev/null; wait "$stress" 2>/dev/null' EXIT
echo "flakecheck: $runs whole-suite runs beside stress-ng --cpu $workers (pid $stress); reports in $out"

bad=0
for i in $(seq 1 "$runs"); do
	dir="$out/run-$i"
	start=$(date +%s)
	"$out/oauthtrio" check --report "$dir" --quiet >"$dir.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	counts=$(grep -m1 ' scenarios: ' "$dir.log" || echo "no summary")
	echo "run $i/$runs: exit $rc, ${secs}s, load $(cut -d' ' -f1 /proc/loadavg): $counts"
	# The summary's failure and warning sections, one scenario a line.
	sed -n '/^Failed (MUST):/,/^$/p; /^Warnings (SHOULD):/,/^$/p' "$dir.log" | sed 's/^/    /'
	if [ "$rc" -ne 0 ] || ! grep -q ' 0 failed, 0 warnings' "$dir.log"; then
		bad=$((bad + 1))
	fi
done
echo "flakecheck: $bad of $runs runs had failures or warnings"
[ "$bad" -eq 0 ]
