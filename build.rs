//! Stamps the git commit into `mydocker --version` (MYDOCKER_COMMIT), and
//! keeps unwind tables out of the release binary.
use std::process::Command;

fn main() {
    // cargo-fuzz builds the fuzz targets (fuzz/) with --cfg fuzzing.
    println!("cargo::rustc-check-cfg=cfg(fuzzing)");
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=MYDOCKER_COMMIT={commit}");
    // A new commit changes HEAD or the branch ref it points to.
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    println!("cargo:rerun-if-changed=build.rs");

    // A panic=abort, no_std binary never unwinds, yet musl's objects bring
    // ~10 KiB of .eh_frame, and GNU ld cannot drop it by itself (crtbegin.o's
    // __do_init/__do_fini refer to their own). Release builds start at
    // src/sys/raw.rs's entry point, which runs no init or fini arrays: so
    // those arrays, crtbegin's functions they name, and with them every
    // .eh_frame are discarded at link time (and the toolchain's .comment;
    // crti's .init/.fini stay: a release test harness starts in musl, which
    // calls them); this also keeps the data
    // segment right after the code in the file (no page padding). Release
    // x86_64 only: test harnesses unwind, and aarch64 links with rust-lld.
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("TARGET") == "x86_64-unknown-linux-musl" && var("PROFILE") == "release" {
        let script = std::path::Path::new(&var("OUT_DIR")).join("no-eh-frame.ld");
        std::fs::write(
            &script,
            "SECTIONS { /DISCARD/ : { *(.eh_frame .init_array .fini_array .text.__do_init .text.__do_fini \
             .comment) } } INSERT AFTER .text;\n",
        )
        .expect("writing the linker script");
        println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
        // No .note.gnu.build-id (and its program header): nothing reads it.
        println!("cargo:rustc-link-arg-bins=-Wl,--build-id=none");
    }
    // Release builds start at src/sys/raw.rs's entry point, not crt1's
    // _start: musl's start-up code (~1.3 KB: libc, TLS and locale set-up
    // for errno and strerror, which sys/ does without) is then left out.
    // x86_64 links through cc, aarch64 with rust-lld.
    if var("PROFILE") == "release" {
        match var("TARGET").as_str() {
            "x86_64-unknown-linux-musl" => println!("cargo:rustc-link-arg-bins=-Wl,--entry=mydocker_start"),
            "aarch64-unknown-linux-musl" => println!("cargo:rustc-link-arg-bins=--entry=mydocker_start"),
            _ => {}
        }
    }
}
