//! Stamps the git commit into `mydocker --version` (MYDOCKER_COMMIT).
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
}
