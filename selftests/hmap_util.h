/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the hmap selftests. */
#ifndef _HMAP_SELFTEST_UTIL_H
#define _HMAP_SELFTEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "libhmap.h"

#define UNPRIV_UID	1000
#define OTHER_UID	1001

/*
 * Without /dev/hmap (hmap.ko not loaded: a kselftest run on a machine
 * without the module) the whole program skips, before the harness starts:
 * "1..0 # SKIP ..." and exit status KSFT_SKIP. Any other error reaching
 * the device is left to the tests to report.
 */
static void __attribute__((constructor)) hmap_skip_without_device(void)
{
	struct stat st;

	if (stat(HMAP_DEV_PATH, &st) && errno == ENOENT) {
		ksft_print_header();
		ksft_exit_skip("%s is absent: the hmap module is not loaded\n",
			       HMAP_DEV_PATH);
	}
}

/* ioctl() returning -errno, for checking exact errors of raw commands. */
static inline int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static inline int open_dev(void)
{
	return open(HMAP_DEV_PATH, O_RDWR | O_CLOEXEC);
}

/*
 * Runs fn(arg) in a child with the given uid and gid and no supplementary
 * groups. Returns what fn returned (a small non-negative number, by
 * convention an errno or 0), or 255 if the child could not switch or died.
 */
static inline int run_as(uid_t uid, gid_t gid, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 255;
	if (pid == 0) {
		if ((!geteuid() && setgroups(0, NULL)) ||
		    setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			_exit(255);
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 255;
	return WEXITSTATUS(status);
}

/* Reads a number from a sysfs or debugfs file; -1 if it cannot. */
static inline long long read_num(const char *path, const char *key)
{
	char line[256];
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			v = strtoll(line, NULL, 0);
			break;
		}
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
			v = strtoll(line + strlen(key) + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

#define HMAP_STATS	"/sys/kernel/debug/hmap/stats"
#define HMAP_PARAM(p)	"/sys/module/hmap/parameters/" p

/* A number from /proc/self/fdinfo/FD, or -1. */
static inline long long fdinfo_num(int fd, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return read_num(path, key);
}

static inline long long stat_num(const char *key)
{
	return read_num(HMAP_STATS, key);
}

/*
 * Waits up to 30 s for every released map to be freed (a grace period and a
 * workqueue turn after its last reference; freeing a map of 100,000
 * entries takes seconds on the debug kernel). Returns maps_freed.
 */
static inline long long settle_frees(void)
{
	int i;

	for (i = 0; i < 3000; i++) {
		if (stat_num("maps_freed") == stat_num("maps_released"))
			break;
		usleep(10000);
	}
	return stat_num("maps_freed");
}

/* Sends @fd over the unix socket @sock (SCM_RIGHTS); 0 or -1. */
static inline int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, b = 'm';
	struct iovec iov = { &b, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* Receives an fd sent by send_fd(); the fd or -1. */
static inline int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = { &b, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

#endif
