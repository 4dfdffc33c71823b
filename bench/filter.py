"""The seccomp filter mydocker installs by default, as the raw struct
sock_filter array the floor (`floor -d -s FILE`) installs too: so the floor
with duties pays for the very same filter. Read from `strace -v`'s decoding
of the seccomp(2) call (BPF_STMT/BPF_JUMP macros), written little-endian.

usage: filter.py STRACE_OUTPUT OUT_FILE   (no seccomp call: no file)
"""
import errno
import re
import struct
import sys

NAMES = {
    "BPF_LD": 0x00, "BPF_LDX": 0x01, "BPF_ST": 0x02, "BPF_STX": 0x03, "BPF_ALU": 0x04, "BPF_JMP": 0x05,
    "BPF_RET": 0x06, "BPF_MISC": 0x07, "BPF_W": 0x00, "BPF_H": 0x08, "BPF_B": 0x10, "BPF_IMM": 0x00,
    "BPF_ABS": 0x20, "BPF_IND": 0x40, "BPF_MEM": 0x60, "BPF_LEN": 0x80, "BPF_MSH": 0xa0, "BPF_ADD": 0x00,
    "BPF_SUB": 0x10, "BPF_MUL": 0x20, "BPF_DIV": 0x30, "BPF_OR": 0x40, "BPF_AND": 0x50, "BPF_LSH": 0x60,
    "BPF_RSH": 0x70, "BPF_NEG": 0x80, "BPF_MOD": 0x90, "BPF_XOR": 0xa0, "BPF_JA": 0x00, "BPF_JEQ": 0x10,
    "BPF_JGT": 0x20, "BPF_JGE": 0x30, "BPF_JSET": 0x40, "BPF_K": 0x00, "BPF_X": 0x08, "BPF_A": 0x10,
    "BPF_TAX": 0x00, "BPF_TXA": 0x80,
    "SECCOMP_RET_KILL_PROCESS": 0x80000000, "SECCOMP_RET_KILL_THREAD": 0, "SECCOMP_RET_KILL": 0,
    "SECCOMP_RET_TRAP": 0x00030000, "SECCOMP_RET_ERRNO": 0x00050000, "SECCOMP_RET_USER_NOTIF": 0x7fc00000,
    "SECCOMP_RET_TRACE": 0x7ff00000, "SECCOMP_RET_LOG": 0x7ffc0000, "SECCOMP_RET_ALLOW": 0x7fff0000,
}


def value(expr):
    v = 0
    for part in expr.split("|"):
        part = part.strip()
        if part in NAMES:
            v |= NAMES[part]
        elif hasattr(errno, part):
            v |= getattr(errno, part)
        else:
            v |= int(part, 0)
    return v


def main():
    text = open(sys.argv[1]).read()
    m = re.search(r"seccomp\(SECCOMP_SET_MODE_FILTER, [^,]+, \{len=(\d+), filter=\[(.*?)\]\}", text)
    if not m:
        return
    insns = re.findall(r"BPF_(STMT|JUMP)\(([^()]*)\)", m.group(2))
    out = b""
    for kind, args in insns:
        a = [x.strip() for x in args.split(",")]
        if kind == "STMT":
            code, k, jt, jf = a[0], a[1], "0", "0"
        else:
            code, k, jt, jf = a
        out += struct.pack("<HBBI", value(code), value(jt), value(jf), value(k) & 0xffffffff)
    if len(insns) != int(m.group(1)):
        sys.exit(f"filter.py: decoded {len(insns)} instructions of {m.group(1)}")
    open(sys.argv[2], "wb").write(out)


main()
