#!/bin/sh
# SPDX-License-Identifier: ISC
#
# Run the libFuzzer harnesses: run.sh BUILD_DIR SECONDS NAME...
# Each harness runs for SECONDS (all at once, one process each) on its seed
# corpus tests/fuzz/corpus/NAME plus a working corpus in BUILD_DIR; crash
# inputs are written to BUILD_DIR/NAME-crash-*. Prints the executions each
# reached and exits non-zero when any harness failed.
set -u
b=$1 secs=$2
shift 2
cd "$(dirname "$0")/../.." || exit 1
pids="" fail=0
for n in "$@"; do
	mkdir -p "$b/corpus/$n"
	"$b/fuzz_$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -max_len=65536 -print_final_stats=1 -artifact_prefix="$b/$n-" \
	    "$b/corpus/$n" "tests/fuzz/corpus/$n" >"$b/$n.log" 2>&1 &
	pids="$pids $!"
done
for pid in $pids; do
	n=$1
	shift
	if wait "$pid"; then
		st=ok
	else
		st=FAILED
		fail=1
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$b/$n.log")
	printf 'fuzz_%s: %s, %s executions in %ss\n' "$n" "$st" \
	    "${execs:-?}" "$secs"
	if [ "$st" != ok ]; then
		grep -E 'ERROR|check failed|SUMMARY|Test unit written' \
		    "$b/$n.log" | head -20
	fi
done
exit $fail
