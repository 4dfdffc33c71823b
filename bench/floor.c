/*
 * floor: the kernel's own cost of a container, as a yardstick for
 * mydocker's benchmark. It does only the kernel work: clone with the five
 * namespaces, make / private, mount proc, execve, wait; with -m BYTES it
 * also makes a memory cgroup under the caller's, sets the limit, and the
 * child joins it first thing — the fastest way there is, as mydocker does
 * (issue 12): "0" written by the child itself into the v1 `tasks` file the
 * parent opened before clone, which skips the lock and RCU wait a write of
 * its pid by the parent costs after idle (v2: `cgroup.procs`) — then the
 * cgroup is removed.
 * No argument checking beyond the minimum, no messages: a measuring stick.
 *
 * With -d it also does, as plainly as C allows, every duty the issues give
 * mydocker on a plain run, so the cost of the duties themselves can be told
 * apart from the cost of mydocker's code: signals blocked and forwarded
 * (and those already pending before clone checked), an error pipe,
 * /proc/self/status read for the SIG_IGN and bounding sets, every fd but
 * the pipe ends closed first thing in the child (issue 11), PR_SET_PDEATHSIG
 * and the check that the parent is not already gone (poll on the error
 * pipe), a session of its own (issue 11), the hostname, lo up, docker's
 * default capabilities (bounding set, no_new_privs, capset), inherited
 * SIG_IGN reset, the signal mask cleared.
 *
 * With -s FILE (and -d) it also installs, last before execve, the seccomp
 * filter in FILE (raw struct sock_filter, bench/filter.py): docker's default
 * profile as mydocker compiles it, so both pay for the very same filter.
 *
 * With both, also the memory duties: swap is no way around the limit
 * (memory.memsw.limit_in_bytes, or memory.swap.max = 0), the cgroup is
 * locked as its owner's (flock, for gc), and the OOM counter is read after
 * the exit (for the OOM verdict).
 *
 * usage: floor [-m BYTES] [-d] [-s FILTER] /path/to/cmd [args...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/file.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
/* capset(2), version 3: a header and two 32-bit words per set */
struct cap_header { unsigned version; int pid; };
struct cap_data { unsigned effective, permitted, inheritable; };
/* seccomp(2) (musl ships no kernel headers) */
struct sock_filter { unsigned short code; unsigned char jt, jf; unsigned k; };
struct sock_fprog { unsigned short len; struct sock_filter *filter; };
#define SECCOMP_SET_MODE_FILTER 1
/* docker's default capabilities */
#define KEEP 0xa80425fbULL

static char stack[64 * 1024] __attribute__((aligned(16)));
static char **cmd;
static int go[2], err[2], duties, join = -1;
static unsigned long long ignored, bounding = ~0ULL;
static sigset_t waited;
static struct sock_filter filter[4096];
static struct sock_fprog fprog = {0, filter};

static void fail(int e) {
	(void)!write(err[1], &e, sizeof e);
	_exit(125);
}

static int child(void *arg) {
	char c;
	(void)arg;
	if (join >= 0) {
		if (write(join, "0", 1) != 1) _exit(125);
		close(join);
	}
	if (duties) {
		/* every fd but the two pipe ends the child uses */
		int a = go[0] < err[1] ? go[0] : err[1], b = go[0] < err[1] ? err[1] : go[0];
		if (a > 3) syscall(SYS_close_range, 3, a - 1, 0);
		if (b > a + 1) syscall(SYS_close_range, a + 1, b - 1, 0);
		syscall(SYS_close_range, b + 1, ~0U, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail(errno);
		struct pollfd pf = {err[1], 0, 0};
		if (poll(&pf, 1, 0) != 0) _exit(125); /* the parent is gone */
		if (setsid() < 0) fail(errno);
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) _exit(125);
	if (mount("proc", "/proc", "proc", MS_NOEXEC | MS_NOSUID | MS_NODEV, NULL) < 0) _exit(125);
	if (duties) {
		struct ifreq r = {0};
		if (sethostname("0123456789ab", 12) < 0) fail(errno);
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		strcpy(r.ifr_name, "lo");
		r.ifr_flags = IFF_UP | IFF_LOOPBACK;
		if (s < 0 || ioctl(s, SIOCSIFFLAGS, &r) < 0) fail(errno);
		for (int cap = 0; cap < 64; cap++)
			if ((bounding & ~KEEP) >> cap & 1 && prctl(PR_CAPBSET_DROP, cap) < 0) {
				if (errno == EINVAL) break;
				fail(errno);
			}
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(errno);
	}
	close(go[1]);
	if (read(go[0], &c, 1) != 1) _exit(125);
	if (duties) {
		struct cap_header h = {0x20080522, 0};
		struct cap_data d[2] = {{KEEP & 0xffffffff, KEEP & 0xffffffff, 0}, {KEEP >> 32, KEEP >> 32, 0}};
		if (syscall(SYS_capset, &h, d) < 0) fail(errno);
		for (int sig = 1; sig < 65; sig++)
			if (ignored >> (sig - 1) & 1 && sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
		if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) fail(errno);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (fprog.len && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0) fail(errno);
	}
	execv(cmd[0], cmd);
	if (duties) fail(errno);
	_exit(127);
}

/* SigIgn and CapBnd from /proc/self/status. */
static void read_status(void) {
	char buf[4096], *p;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0) return;
	buf[n] = 0;
	if ((p = strstr(buf, "SigIgn:"))) ignored = strtoull(p + 7, NULL, 16);
	if ((p = strstr(buf, "CapBnd:"))) bounding = strtoull(p + 7, NULL, 16);
}

static int put(const char *dir, const char *file, const char *val) {
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	int r = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return r;
}

/* The caller's memory cgroup: v1 "N:memory:/path", else v2 "0::/path". */
static int cgdir(char *out, size_t n) {
	char line[4096], v2[4096] = "";
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f) return -1;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (!b) continue;
		*b = 0;
		if (!strcmp(a + 1, "memory")) {
			snprintf(out, n, "/sys/fs/cgroup/memory%s/floor-%d", b + 1, getpid());
			fclose(f);
			return 0;
		}
		if (!strcmp(a + 1, "")) snprintf(v2, sizeof v2, "/sys/fs/cgroup%s/floor-%d", b + 1, getpid());
	}
	fclose(f);
	if (!v2[0]) return -1;
	snprintf(out, n, "%s", v2);
	return 1;
}

int main(int argc, char **argv) {
	const char *limit = NULL;
	char dir[4000];
	int v2 = 0, status;
	for (;;) {
		if (argc > 2 && !strcmp(argv[1], "-m")) {
			limit = argv[2];
			argv += 2;
			argc -= 2;
		} else if (argc > 2 && !strcmp(argv[1], "-s")) {
			int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
			ssize_t n = fd < 0 ? -1 : read(fd, filter, sizeof filter);
			if (n <= 0 || n % sizeof filter[0]) return 125;
			close(fd);
			fprog.len = n / sizeof filter[0];
			argv += 2;
			argc -= 2;
		} else if (argc > 1 && !strcmp(argv[1], "-d")) {
			duties = 1;
			argv++;
			argc--;
		} else {
			break;
		}
	}
	if (argc < 2) return 125;
	cmd = argv + 1;
	if (limit) {
		v2 = cgdir(dir, sizeof dir);
		if (v2 < 0 || mkdir(dir, 0755) < 0) return 125;
		if (put(dir, v2 ? "memory.max" : "memory.limit_in_bytes", limit) < 0) return 125;
		/* #3: swap is no way around the limit */
		if (duties) {
			put(dir, v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes", v2 ? "0" : limit);
			int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (d < 0 || flock(d, LOCK_EX | LOCK_NB) < 0) return 125;
		}
		char t[4096];
		snprintf(t, sizeof t, "%s/%s", dir, v2 ? "cgroup.procs" : "tasks");
		if ((join = open(t, O_WRONLY | O_CLOEXEC)) < 0) return 125;
	}
	if (duties) {
		int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD, SIGPIPE};
		sigemptyset(&waited);
		for (unsigned i = 0; i < sizeof fwd / sizeof fwd[0]; i++) sigaddset(&waited, fwd[i]);
		sigprocmask(SIG_SETMASK, &waited, NULL);
		if (pipe2(err, O_CLOEXEC) < 0) return 125;
		read_status();
		sigset_t pending;
		if (sigpending(&pending) < 0) return 125;
	}
	/* The go-ahead waits for nothing (the child joins by itself): it is in
	 * the pipe before clone, as mydocker's frame is. */
	if (pipe2(go, O_CLOEXEC) < 0 || write(go[1], "g", 1) != 1) return 125;
	pid_t p = clone(child, stack + sizeof stack,
	                CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | SIGCHLD, NULL);
	if (p < 0) return 125;
	close(go[0]);
	close(go[1]);
	if (join >= 0) close(join);
	if (duties) close(err[1]);
	if (duties) {
		int sig, e;
		for (;;) {
			if (sigwait(&waited, &sig) != 0) continue;
			if (sig == SIGCHLD) {
				if (waitpid(p, &status, WNOHANG) == p) break;
			} else if (sig != SIGPIPE) {
				kill(p, sig);
			}
		}
		if (read(err[0], &e, sizeof e) == sizeof e) return 125;
	} else {
		while (waitpid(p, &status, 0) < 0) {}
	}
	if (limit && duties) {
		/* the OOM verdict reads the kill counter */
		char t[4096], b[1024];
		snprintf(t, sizeof t, "%s/%s", dir, v2 ? "memory.events" : "memory.oom_control");
		int fd = open(t, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			(void)!read(fd, b, sizeof b);
			close(fd);
		}
	}
	if (limit) rmdir(dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
