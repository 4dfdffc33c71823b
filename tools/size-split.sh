#!/bin/sh
# Where the binary's bytes go, by front end: the shipped x86_64 binary built
# from a scratch copy of a commit three times, with parts cut off at their
# one entry so that LTO drops all they alone reach (README Performance,
# "Where the bytes are"):
#   all           the binary as shipped
#   without OCI   main never dispatches to oci::main
#   run only      also no seccomp compiler: docker's default filter prebuilt
# usage: tools/size-split.sh [COMMIT]   (default HEAD; run from the repository)
set -eu
rev=${1:-HEAD}
top=$(git rev-parse --show-toplevel)
d=$(mktemp -d /tmp/size-split.XXXXXX)
trap 'rm -rf "$d"' EXIT
mkdir "$d/src"
git -C "$top" archive "$rev" | tar -x -C "$d/src"
cd "$d/src"
size() {
  CARGO_TARGET_DIR="$d/t" cargo build -q --release --locked --target x86_64-unknown-linux-musl
  stat -c %s "$d/t/x86_64-unknown-linux-musl/release/mydocker"
}
# cut_entry FILE OLD NEW: the one place a part is entered, replaced; fails loudly
# when the source no longer has it (the script must follow the code).
cut_entry() {
  python3 - "$@" <<'PY'
import sys
f, old, new = sys.argv[1:]
p = open(f).read()
if p.count(old) != 1:
    sys.exit(f"size-split: {f}: the entry to cut is not there once: {old!r}")
open(f, "w").write(p.replace(old, new))
PY
}
all=$(size)
cut_entry src/main.rs '        return oci_main(&args, &env);' '        let _ = oci_main; return 1;'
no_oci=$(size)
cut_entry src/seccomp/mod.rs '    compile_into(profile, host, caps)
}' '    let _ = compile_into; let _ = (host, caps); Err(())
}'
run=$(size)
printf 'run only (docker-style run, docker'\''s default filter prebuilt)  %7d\n' "$run"
printf '+ seccomp compiler and JSON reader                             %7d  (%d)\n' $((no_oci - run)) "$no_oci"
printf '+ OCI runtime                                                  %7d  (%d)\n' $((all - no_oci)) "$all"
