#!/usr/bin/env bash
# `make test`: the whole suite as two halves run side by side. Most tests wait on processes, the broker and the
# databases rather than compute, so on two cores two halves take little more than half the time of one run.
# The first half is named; the second is everything else, so a new test folder is never left out. Each half's
# output is printed whole when it ends; the exit code is the worst of the two.
set -u
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
first=(tests/deploy tests/chaos tests/search tests/directory tests/moderation)  # ~half of the time, measured
second=(tests)
for folder in "${first[@]}"; do second+=("--ignore=$folder"); done

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
"$python" -m pytest "${first[@]}" "$@" >"$logs/first" 2>&1 &
first_pid=$!
"$python" -m pytest "${second[@]}" "$@" >"$logs/second" 2>&1 &
second_pid=$!

wait "$first_pid"; first_status=$?
echo "======================== first half: ${first[*]} ========================"
cat "$logs/first"
wait "$second_pid"; second_status=$?
echo "======================== second half: everything else ========================"
cat "$logs/second"
echo "halves: first exited $first_status, second exited $second_status"
exit $(( first_status > second_status ? first_status : second_status ))
