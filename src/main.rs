//! mydocker: a tiny container runtime in one static, no_std binary.
//!
//! Architecture: cli (argv → options) → plan (every decision, no syscalls)
//! → frame (the parent → child wire format) → spawn (parent side) → child
//! (the only code on the clone stack). `sys` is the one module where the
//! `deny(unsafe_code)` below is lifted.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![deny(unsafe_code)]

mod caps;
mod cgroup;
mod child;
mod cli;
mod console;
mod devices;
mod err;
mod frame;
mod fsops;
mod json;
#[cfg(any(test, fuzzing))]
mod fuzzing;
mod limits;
// Fields and variants the OCI front end fills are not read by `run` alone.
#[allow(dead_code)]
mod model;
mod mounts;
mod oci;
mod out;
mod path;
mod plan;
mod relay;
mod seccomp;
mod spawn;
mod signals;
mod sys;
mod words;

use cli::Cmd;

/// Called from the C entry point in `sys` with argv and envp.
pub fn main(args: sys::CArgs, env: sys::CArgs) -> i32 {
    let oci = oci::is_oci(&args);
    // The deepest command (OCI state and create) takes ~100 KiB of stack:
    // a smaller limit would end it in SIGSEGV, without a word. Raised (the
    // container inherits the raised limit) or, past the hard one, refused.
    if !sys::proc::stack_room(256 << 10) {
        out::Line::new().s(b"mydocker: ulimit -s: below the 256 KiB needed, the hard limit too").emit(2);
        return if oci { 1 } else { 125 };
    }
    if oci {
        return oci_main(&args, &env);
    }
    // Borrowed, not moved out of the Result: a move copies the 5 KiB Run.
    match &cli::parse(&args) {
        Ok(Cmd::Help) => out::stdout(cli::HELP),
        Ok(Cmd::RunHelp) => out::stdout(cli::RUN_HELP),
        Ok(Cmd::Version) => return oci::info::version(),
        Ok(Cmd::Run(r)) if r.ndev > 0 => return run_with_devices(r, &args, &env),
        Ok(Cmd::Run(r)) => return spawn::run(&model::from_run(r, &args, &env)),
        Ok(Cmd::Gc(parent)) => {
            if let Err(f) = cgroup::gc(*parent) {
                f.report();
                return 125;
            }
        }
        Err(u) => {
            u.report();
            return 125;
        }
    }
    0
}

/// The OCI front end, apart: its 4 KiB --root buffer then never enlarges
/// the stack frame of a docker-style `run` (stack probes touch every page).
#[inline(never)]
fn oci_main(args: &sys::CArgs, env: &sys::CArgs) -> i32 {
    oci::main(args, env)
}

/// `run` with --device: the host nodes are looked up first; they become
/// the container's nodes and, under the device policy, its rules. Apart so
/// that their tables never enlarge the stack of a run without them.
#[inline(never)]
fn run_with_devices(r: &cli::Run, args: &sys::CArgs, env: &sys::CArgs) -> i32 {
    let mut d = devices::Docker::new();
    if let Err((spec, why)) = devices::Docker::from_flags(&mut d, r.device_specs()) {
        out::Line::new().s(b"mydocker: run: --device '").arg(spec).s(b"': ").s(why).emit(2);
        return 125;
    }
    let mut c = model::from_run(r, args, env);
    c.devices = d.nodes();
    if c.device_rules.is_some() {
        c.device_rules = Some(d.rules());
    }
    spawn::run(&c)
}
