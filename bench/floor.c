/*
 * floor: the kernel's own cost of a container, as a yardstick for
 * mydocker's benchmark. It does only the kernel work: clone with the five
 * namespaces, make / private, mount proc, execve, wait; with -m BYTES it
 * also makes a memory cgroup under the caller's, sets the limit, attaches
 * the child (before it may exec, as mydocker does) and removes the cgroup.
 * No argument checking beyond the minimum, no messages: a measuring stick.
 *
 * usage: floor [-m BYTES] /path/to/cmd [args...]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[64 * 1024] __attribute__((aligned(16)));
static char **cmd;
static int go[2];

static int child(void *arg) {
	char c;
	(void)arg;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) _exit(125);
	if (mount("proc", "/proc", "proc", MS_NOEXEC | MS_NOSUID | MS_NODEV, NULL) < 0) _exit(125);
	close(go[1]);
	if (read(go[0], &c, 1) != 1) _exit(125);
	execv(cmd[0], cmd);
	_exit(127);
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
	char dir[4096], pid[32];
	int v2 = 0, status;
	if (argc > 2 && !strcmp(argv[1], "-m")) {
		limit = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2) return 125;
	cmd = argv + 1;
	if (limit) {
		v2 = cgdir(dir, sizeof dir);
		if (v2 < 0 || mkdir(dir, 0755) < 0) return 125;
		if (put(dir, v2 ? "memory.max" : "memory.limit_in_bytes", limit) < 0) return 125;
	}
	if (pipe2(go, O_CLOEXEC) < 0) return 125;
	pid_t p = clone(child, stack + sizeof stack,
	                CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | SIGCHLD, NULL);
	if (p < 0) return 125;
	close(go[0]);
	if (limit) {
		snprintf(pid, sizeof pid, "%d", p);
		if (put(dir, "cgroup.procs", pid) < 0) kill(p, SIGKILL);
	}
	(void)!write(go[1], "g", 1);
	close(go[1]);
	while (waitpid(p, &status, 0) < 0) {}
	if (limit) rmdir(dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
