#!/usr/bin/env bash
# Sums the results of a `make test` run into one closing line.
# Reads cargo test logs (unit, itest: "test result: ... N passed; M failed",
# plus "SKIP " lines printed by skipped tests) and QEMU logs
# ("<arch>-<mode>: N passed, N failed, N skipped").
# usage: tests/summary.sh LOG...
set -u
passed=0 failed=0 skipped=0
for f in "$@"; do
  [ -f "$f" ] || { echo "summary: missing $f (that step did not run)"; failed=$((failed + 1)); continue; }
  case ${f##*/} in
    qemu-*)
      line=$(grep -E '^[a-z0-9_]+-v[12]: [0-9]+ passed, [0-9]+ failed' "$f" | tail -1)
      if [ -z "$line" ]; then echo "summary: no result in $f"; failed=$((failed + 1)); continue; fi
      p=$(sed -n 's/.*: \([0-9]*\) passed.*/\1/p' <<<"$line")
      x=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$line")
      s=$(sed -n 's/.* \([0-9]*\) skipped.*/\1/p' <<<"$line")
      ;;
    *)
      p=0 x=0
      n=$(grep -c '^test result:' "$f")
      if [ "$n" = 0 ]; then echo "summary: no test result in $f"; failed=$((failed + 1)); continue; fi
      while read -r a b; do p=$((p + a)) x=$((x + b)); done < <(sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$f")
      s=$(grep -c '^SKIP ' "$f")
      p=$((p - s))
      ;;
  esac
  printf '  %-22s %4d passed, %d failed, %d skipped\n' "${f##*/}:" "$p" "$x" "${s:-0}"
  passed=$((passed + p)) failed=$((failed + x)) skipped=$((skipped + ${s:-0}))
done
echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
