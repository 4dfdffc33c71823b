//! Every phrase a cgroup failure says, in one packed string: a `Fail`
//! names its parts by index (one byte each), so it is 8 bytes that travel
//! in registers and costs one constant to build, where three `&[u8]` made
//! it 56 bytes copied through memory at every `?` (issue 12: size).

macro_rules! phrases {
    ($($name:ident = $text:literal,)*) => {
        /// A phrase, by its index in `TEXT`.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        #[repr(u8)]
        pub enum P { $($name,)* }
        /// The phrases in `P`'s order, each followed by '|'.
        const TEXT: &str = concat!($($text, "|",)*);
    };
}

// Order matters where an index is computed: the controllers in `Ctrl`'s
// order (MEMORY + c), JOIN_* likewise, and the v1 and v2 limit files in
// `res::Knob` order (V1_FILES + k, V2_FILES + k; "-": none there).
phrases! {
    NONE = "",
    MEMORY = "memory",
    CPU = "cpu",
    CPUSET = "cpuset",
    PIDS = "pids",
    DEVICES = "devices",
    FREEZER = "freezer",
    JOIN_MEMORY = "joining the memory cgroup",
    JOIN_CPU = "joining the cpu cgroup",
    JOIN_CPUSET = "joining the cpuset cgroup",
    JOIN_PIDS = "joining the pids cgroup",
    JOIN_DEVICES = "joining the devices cgroup",
    JOIN_FREEZER = "joining the freezer cgroup",
    V1_FILES = "memory.limit_in_bytes",
    V1_SOFT = "memory.soft_limit_in_bytes",
    V1_MEMSW = "memory.memsw.limit_in_bytes",
    V1_SWAPPINESS = "memory.swappiness",
    V1_OOM = "memory.oom_control",
    V1_SHARES = "cpu.shares",
    V1_PERIOD = "cpu.cfs_period_us",
    V1_QUOTA = "cpu.cfs_quota_us",
    V1_BURST = "cpu.cfs_burst_us",
    V1_PIDS = "pids.max",
    V2_FILES = "memory.max",
    V2_LOW = "memory.low",
    V2_SWAP = "memory.swap.max",
    V2_SWAPPINESS = "-",
    V2_OOM = "-",
    V2_WEIGHT = "cpu.weight",
    V2_PERIOD = "-",
    V2_MAX = "cpu.max",
    V2_BURST = "cpu.max.burst",
    V2_PIDS = "pids.max",
    JOIN_V2 = "joining the container's cgroup (v2)",
    JOIN_ANY = "joining the container's cgroup",
    TASKS = "tasks",
    PROCS = "cgroup.procs",
    DISCOVERY = "discovery",
    MOUNTINFO = "/proc/self/mountinfo",
    PROC_CGROUP = "/proc/self/cgroup",
    NO_CONTROLLER = "controller not available: no cgroup v1 hierarchy with it and no cgroup2 mount in /proc/self/mountinfo",
    NOT_LISTED = "the caller's cgroup in this hierarchy is not listed",
    OUTSIDE = "the caller's cgroup lies outside the mounted hierarchy",
    MYDOCKER = "mydocker",
    GC_OPENING = "gc: opening",
    GC_LOCKING = "gc: locking",
    GC_READING = "gc: reading",
    OPENING_PARENT = "opening the parent cgroup",
    CREATING = "creating",
    OPENING = "opening",
    LOCKING = "locking",
    CREATING_CG = "creating the container cgroup",
    OPENING_CG = "opening the container cgroup",
    LOCKING_CG = "locking the container cgroup",
    CREATING_A = "creating a cgroup",
    OPENING_A = "opening a cgroup",
    MEMS = "cpuset.mems",
    CPUS = "cpuset.cpus",
    DEVICES_LIST = "devices.list",
    READING = "reading",
    READING_PARENTS = "reading the parent's",
    COPYING_PARENTS = "copying the parent's",
    SETTING = "setting",
    DEVICE_POLICY = "setting the device policy",
    DEVICES_DENY = "devices.deny",
    DEVICES_ALLOW = "devices.allow",
    CONTROLLERS = "cgroup.controllers",
    SUBTREE = "cgroup.subtree_control",
    NOT_IN_PARENT = "controller not available to the parent cgroup (enable it in its parent's cgroup.subtree_control)",
    ENABLING = "enabling controllers",
    BUILDING_PROG = "building the device program",
    PROG_TOO_LONG = "device program too long",
    ATTACHING_PROG = "loading and attaching the device program (BPF_PROG_TYPE_CGROUP_DEVICE)",
    PROG_EPERM = "Operation not permitted (needs CAP_SYS_ADMIN; or a cgroup above holds a device program that allows none below it)",
    PROG_REFUSED = "refused by the kernel (is it built with CONFIG_CGROUP_BPF?)",
    FREEZING = "freezing",
    THAWING = "thawing",
    FREEZER_STATE = "freezer.state",
    EVENTS = "cgroup.events",
    FREEZE = "cgroup.freeze",
    NOT_FROZEN = "the tasks did not all freeze; thawed again",
    NOT_THAWED = "the tasks did not thaw",
}

/// Phrase `i` (empty past the end).
pub fn text(i: u8) -> &'static [u8] {
    crate::words::nth_of(TEXT.as_bytes(), b'|', i as usize)
}

/// Phrase `p`.
pub fn of(p: P) -> &'static [u8] {
    text(p as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_indexes_land_on_their_phrases() {
        use crate::cgroup::{Ctrl, CTRLS};
        let names = ["memory", "cpu", "cpuset", "pids", "devices", "freezer"];
        for c in CTRLS {
            assert_eq!(text(P::MEMORY as u8 + c as u8), names[c as usize].as_bytes());
            let join = std::format!("joining the {} cgroup", std::str::from_utf8(c.name()).unwrap());
            assert_eq!(text(P::JOIN_MEMORY as u8 + c as u8), join.as_bytes());
        }
        assert_eq!(Ctrl::Freezer.name(), b"freezer");
        assert_eq!(of(P::NONE), b"");
        assert_eq!(of(P::NOT_THAWED), b"the tasks did not thaw");
        assert!(!TEXT.contains("||"), "only NONE is empty");
    }
}
