//! --log FILE and --log-format: every error line mydocker prints on stderr
//! is also appended to the log, as runc does — a JSON object per line
//! {"level":"error","msg":...,"time":...} (containerd's shim keeps the last
//! error msg of <bundle>/log.json as the reason it reports), or logfmt text.
use super::jw::{self, W};
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static FD: AtomicI32 = AtomicI32::new(-1);
static JSON: AtomicBool = AtomicBool::new(false);

/// Sends every later error line to `fd` too.
pub fn to(fd: crate::sys::Fd) {
    FD.store(fd, Ordering::Relaxed);
}

/// --log-format: JSON lines (true) or text.
pub fn json(on: bool) {
    JSON.store(on, Ordering::Relaxed);
}

/// Appends one error line (without its newline or "mydocker: " prefix) to
/// the log, if there is one.
pub fn mirror(line: &[u8]) {
    let fd = FD.load(Ordering::Relaxed);
    if fd < 0 {
        return;
    }
    let msg = line.strip_prefix(&b"mydocker: "[..]).unwrap_or(line);
    let t = jw::now();
    let mut w = W::new(fd);
    if JSON.load(Ordering::Relaxed) {
        w.s(b"{\"level\":\"error\",\"msg\":").q(msg).s(b",\"time\":").q(&t).s(b"}\n");
    } else {
        w.s(b"time=").q(&t).s(b" level=error msg=").q(msg).s(b"\n");
    }
    w.flush();
}
