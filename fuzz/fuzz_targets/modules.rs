// mydocker's modules, compiled into a fuzz target (std, --cfg fuzzing: the
// C entry point and panic handler in sys/ are left out).
#[allow(dead_code)]
#[path = "../../src/caps.rs"]
mod caps;
#[allow(dead_code)]
#[path = "../../src/cgroup/mod.rs"]
mod cgroup;
#[allow(dead_code)]
#[path = "../../src/cli.rs"]
mod cli;
#[allow(dead_code)]
#[path = "../../src/devices.rs"]
mod devices;
#[allow(dead_code)]
#[path = "../../src/err.rs"]
mod err;
#[allow(dead_code)]
#[path = "../../src/frame.rs"]
mod frame;
#[allow(dead_code)]
#[path = "../../src/fuzzing.rs"]
mod fuzzing;
#[allow(dead_code)]
#[path = "../../src/json.rs"]
mod json;
#[allow(dead_code)]
#[path = "../../src/limits.rs"]
mod limits;
#[allow(dead_code)]
#[path = "../../src/model.rs"]
mod model;
#[allow(dead_code)]
#[path = "../../src/mounts.rs"]
mod mounts;
#[allow(dead_code)]
#[path = "../../src/out.rs"]
mod out;
#[allow(dead_code)]
#[path = "../../src/path.rs"]
mod path;
#[allow(dead_code)]
#[path = "../../src/plan.rs"]
mod plan;
#[allow(dead_code)]
#[path = "../../src/seccomp/mod.rs"]
mod seccomp;
#[allow(dead_code)]
#[path = "../../src/sys/mod.rs"]
mod sys;
#[allow(dead_code)]
#[path = "../../src/words.rs"]
mod words;
// The OCI config mappers only (no lifecycle). out.rs mirrors error lines
// to the OCI --log file only outside fuzz builds.
#[allow(dead_code)]
#[path = "oci_modules.rs"]
mod oci;
