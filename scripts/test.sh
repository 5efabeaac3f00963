#!/usr/bin/env bash
# Whole test suite: set the machine up (idempotent), run every test project, and end with
# one line "N passed, N failed, N skipped" summed over the TRX results.
# With CI=true, tests that need root, BPF, bpffs or namespaces fail instead of skipping.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || { echo "0 passed, 1 failed (set-up failed)"; exit 1; }

results=$(mktemp -d /tmp/edge5g-test.XXXXXX)
trap 'rm -rf "$results"' EXIT
dotnet test LoxiLb.Edge5G.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" \
  --blame-hang-timeout 5m "$@"
status=$?

passed=0; failed=0; skipped=0
shopt -s nullglob
trx=("$results"/*.trx)
for f in "${trx[@]}"; do
  counters=$(grep -o '<Counters [^>]*>' "$f" | head -n 1)
  get() { printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done
# The failures again, last, so a log that keeps only its tail still names them.
for f in "${trx[@]}"; do
  grep -o '<UnitTestResult [^>]*outcome="Failed"[^>]*>' "$f" | sed -n 's/.* testName="\([^"]*\)".*/FAILED: \1/p'
  grep -o '<Message>[^<]*</Message>' "$f" | sed 's/<[^>]*>//g; s/^/  message: /' | head -n 5
done
if [ ${#trx[@]} -eq 0 ] || { [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; }; then
  failed=$((failed + 1)) # the run itself failed (build, crash, hang) without a failed test to show it
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
