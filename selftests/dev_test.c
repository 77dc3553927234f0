// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/hmap as a device: its node, and its answer to ioctls it does not know.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "hmap_util.h"	/* skips the program without /dev/hmap */

static unsigned int param_mode(void)
{
	unsigned int mode = 0;
	FILE *f = fopen("/sys/module/hmap/parameters/dev_mode", "r");

	if (f) {
		if (fscanf(f, "%u", &mode) != 1)
			mode = 0;
		fclose(f);
	}
	return mode;
}

TEST(node_matches_dev_mode_param)
{
	struct stat st;

	ASSERT_EQ(0, stat("/dev/hmap", &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0, st.st_gid);
	/* The parameter reads back in decimal. */
	EXPECT_EQ(0600, param_mode());
	EXPECT_EQ(param_mode(), st.st_mode & 07777);
}

TEST(unknown_ioctls_are_enotty)
{
	unsigned long cmds[] = {
		0, 1, _IO('x', 1), _IOR(0xb7, 0xff, int), _IOWR(0xb7, 0, char[4]),
		TCGETS, FIONREAD,
	};
	unsigned int i;
	int fd;

	fd = open("/dev/hmap", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, cmds[i], 0)) TH_LOG("cmd %#lx", cmds[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx", cmds[i]);
	}
	close(fd);
}

TEST(not_seekable)
{
	int fd = open("/dev/hmap", O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	close(fd);
}

TEST_HARNESS_MAIN
