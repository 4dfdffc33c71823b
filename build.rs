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
    // ~10 KiB of .eh_frame, and GNU ld cannot drop it (crtbegin.o refers to
    // its own). Discarding every .eh_frame but crtbegin's and crtend's at
    // link time keeps it out, and keeps the data segment right after the
    // code in the file (no page padding). Release x86_64 only: test
    // harnesses unwind, and aarch64 links with rust-lld.
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("TARGET") == "x86_64-unknown-linux-musl" && var("PROFILE") == "release" {
        let script = std::path::Path::new(&var("OUT_DIR")).join("no-eh-frame.ld");
        std::fs::write(
            &script,
            "SECTIONS { /DISCARD/ : { EXCLUDE_FILE(*crtbegin.o *crtend.o) *(.eh_frame) } } INSERT AFTER .text;\n",
        )
        .expect("writing the linker script");
        println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
    }
}
