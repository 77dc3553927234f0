// SPDX-License-Identifier: GPL-2.0
/*
 * runas UID GID PROGRAM [ARGS...]: run a program as another user with no
 * supplementary groups, for the unprivileged runs of the selftests.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uid_t uid;
	gid_t gid;

	if (argc < 4) {
		fprintf(stderr, "usage: runas UID GID PROGRAM [ARGS...]\n");
		return 2;
	}
	uid = strtoul(argv[1], NULL, 10);
	gid = strtoul(argv[2], NULL, 10);
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid)) {
		perror("runas");
		return 1;
	}
	execvp(argv[3], argv + 3);
	perror("runas: exec");
	return 127;
}
