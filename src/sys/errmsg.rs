//! strerror without the C library: musl's messages, byte for byte (they
//! are part of mydocker's error lines), read from a packed list instead of
//! musl's strerror, which reads the locale through the thread pointer.

/// The messages by errno, one per line (an empty line: an errno without a
/// message of its own, which gets the first line's).
const MESSAGES: &[u8] = b"\
No error information\n\
Operation not permitted\n\
No such file or directory\n\
No such process\n\
Interrupted system call\n\
I/O error\n\
No such device or address\n\
Argument list too long\n\
Exec format error\n\
Bad file descriptor\n\
No child process\n\
Resource temporarily unavailable\n\
Out of memory\n\
Permission denied\n\
Bad address\n\
Block device required\n\
Resource busy\n\
File exists\n\
Cross-device link\n\
No such device\n\
Not a directory\n\
Is a directory\n\
Invalid argument\n\
Too many open files in system\n\
No file descriptors available\n\
Not a tty\n\
Text file busy\n\
File too large\n\
No space left on device\n\
Invalid seek\n\
Read-only file system\n\
Too many links\n\
Broken pipe\n\
Domain error\n\
Result not representable\n\
Resource deadlock would occur\n\
Filename too long\n\
No locks available\n\
Function not implemented\n\
Directory not empty\n\
Symbolic link loop\n\
\n\
No message of desired type\n\
Identifier removed\n\
\n\
\n\
\n\
\n\
\n\
\n\
\n\
\n\
\n\
\n\
\n\
\n\
\n\
\n\
\n\
\n\
Device not a stream\n\
No data available\n\
Device timeout\n\
Out of streams resources\n\
\n\
\n\
\n\
Link has been severed\n\
\n\
\n\
\n\
Protocol error\n\
Multihop attempted\n\
\n\
Bad message\n\
Value too large for data type\n\
\n\
File descriptor in bad state\n\
\n\
\n\
\n\
\n\
\n\
\n\
Illegal byte sequence\n\
\n\
\n\
\n\
Not a socket\n\
Destination address required\n\
Message too large\n\
Protocol wrong type for socket\n\
Protocol not available\n\
Protocol not supported\n\
Socket type not supported\n\
Not supported\n\
Protocol family not supported\n\
Address family not supported by protocol\n\
Address in use\n\
Address not available\n\
Network is down\n\
Network unreachable\n\
Connection reset by network\n\
Connection aborted\n\
Connection reset by peer\n\
No buffer space available\n\
Socket is connected\n\
Socket not connected\n\
Cannot send after socket shutdown\n\
\n\
Operation timed out\n\
Connection refused\n\
Host is down\n\
Host is unreachable\n\
Operation already in progress\n\
Operation in progress\n\
Stale file handle\n\
\n\
\n\
\n\
\n\
Remote I/O error\n\
Quota exceeded\n\
No medium found\n\
Wrong medium type\n\
Operation canceled\n\
Required key not available\n\
Key has expired\n\
Key has been revoked\n\
Key was rejected by service\n\
Previous owner died\n\
State not recoverable";

/// The message for an errno, as musl's strerror words it.
pub fn strerror(e: super::Errno) -> &'static [u8] {
    let m = crate::words::nth_of(MESSAGES, b'\n', e.0 as u32 as usize);
    if m.is_empty() {
        crate::words::nth_of(MESSAGES, b'\n', 0)
    } else {
        m
    }
}

#[cfg(test)]
mod tests {
    // Against musl's own strerror: a glibc build words some differently.
    #[cfg(target_env = "musl")]
    #[test]
    fn every_errno_reads_as_musls_strerror_says() {
        for e in -2..200 {
            // SAFETY: strerror returns a static NUL-terminated string.
            let want = unsafe { core::ffi::CStr::from_ptr(libc::strerror(e)) }.to_bytes();
            assert_eq!(super::strerror(super::super::Errno(e)), want, "errno {e}");
        }
    }
}
