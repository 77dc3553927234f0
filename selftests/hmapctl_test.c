// SPDX-License-Identifier: GPL-2.0
/*
 * hmapctl end to end, in the VM: one user creates, publishes and writes a
 * map, another reads it back; JSON output is parsed back and checked; errors
 * print their errno name and exit non-zero.
 */
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "hmap_util.h"
#include "json.h"

#define HMAPCTL "/hmap/tests/hmapctl"

struct out {
	char text[65536];
	int status;
};

/* Runs hmapctl as @uid with stdout and stderr captured together. */
static int hmapctl(struct out *o, uid_t uid, const char *const *args)
{
	const char *argv[32] = { HMAPCTL };
	int pipefd[2], n = 0, i, status;
	ssize_t r;
	pid_t pid;

	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
			    setresuid(uid, uid, uid)))
			_exit(126);
		execv(HMAPCTL, (char **)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((r = read(pipefd[0], o->text + n, sizeof(o->text) - 1 - n)) > 0)
		n += r;
	close(pipefd[0]);
	o->text[n] = 0;
	waitpid(pid, &status, 0);
	o->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	return o->status;
}

#define CTL(o, uid, ...) hmapctl(o, uid, (const char *const[]){ __VA_ARGS__, NULL })

FIXTURE(ctl) {
	struct out o;
};

FIXTURE_SETUP(ctl)
{
	if (geteuid())
		SKIP(return, "runs hmapctl as several users: needs root");
	ASSERT_EQ(0, chmod(HMAP_DEV_PATH, 0666));
}

FIXTURE_TEARDOWN(ctl)
{
	struct out o;

	if (geteuid())
		return;
	CTL(&o, 0, "unpublish", "scores");
	chmod(HMAP_DEV_PATH, 0600);
}

/* One user writes, another reads it back, through hmapctl. */
TEST_F(ctl, share_between_users)
{
	struct out *o = &self->o;

	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "create", "scores", "key", "8", "value",
			 "8", "entries", "64", "mode", "0644")) TH_LOG("%s", o->text);
	EXPECT_STREQ("", o->text);
	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "update", "name", "scores", "key",
			 "string", "ada", "value", "u64", "36"));
	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "update", "name", "scores", "key",
			 "string", "grace", "value", "u64", "85", "noexist"));
	ASSERT_EQ(0, CTL(o, OTHER_UID, "-K", "string", "-V", "u64", "lookup",
			 "name", "scores", "key", "string", "ada")) TH_LOG("%s", o->text);
	EXPECT_STREQ("key: ada  value: 36\n", o->text);
	/* Mode 0644: the other user cannot write. */
	EXPECT_EQ(1, CTL(o, OTHER_UID, "update", "name", "scores", "key",
			 "string", "x", "value", "u64", "1"));
	EXPECT_NE(NULL, strstr(o->text, "EACCES")) TH_LOG("%s", o->text);
	EXPECT_EQ(1, CTL(o, OTHER_UID, "unpublish", "scores"));
	EXPECT_NE(NULL, strstr(o->text, "EPERM")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "unpublish", "scores"));
}

TEST_F(ctl, json_dump_and_show_parse_back)
{
	struct out *o = &self->o;
	const struct jv *e, *f;
	struct jv v;
	int i, seen = 0;

	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "create", "scores", "key", "4", "value",
			 "8", "entries", "100", "capacity", "50", "mode", "0640"));
	for (i = 1; i <= 20; i++) {
		char k[16], val[16];

		snprintf(k, sizeof(k), "%d", i);
		snprintf(val, sizeof(val), "%d", i * 1000);
		ASSERT_EQ(0, CTL(o, UNPRIV_UID, "update", "name", "scores", "key",
				 "u32", k, "value", "u64", val));
	}
	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "-j", "-K", "u32", "-V", "u64", "dump",
			 "name", "scores"));
	ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
	ASSERT_EQ(J_ARR, v.type);
	EXPECT_EQ(20, v.n);
	for (i = 0; i < v.n; i++) {
		e = json_get(&v.kids[i], "key");
		f = json_get(&v.kids[i], "value");
		ASSERT_NE(NULL, e);
		ASSERT_NE(NULL, f);
		ASSERT_EQ(J_NUM, e->type);
		ASSERT_EQ(J_NUM, f->type);
		EXPECT_EQ((long)e->num * 1000, (long)f->num);
		seen |= 1 << (int)e->num;
	}
	EXPECT_EQ(0x1ffffe, seen);

	/* Hex keys by default, as an array of byte strings. */
	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "-j", "getnext", "name", "scores"));
	ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
	e = json_get(&v, "next_key");
	ASSERT_NE(NULL, e);
	ASSERT_EQ(J_ARR, e->type);
	EXPECT_EQ(4, e->n);
	EXPECT_EQ(J_STR, e->kids[0].type);
	EXPECT_EQ(4, strlen(e->kids[0].str));

	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "-j", "show", "name", "scores"));
	ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
	EXPECT_EQ(20, json_get(&v, "count")->num);
	EXPECT_EQ(4, json_get(&v, "key_size")->num);
	EXPECT_EQ(8, json_get(&v, "value_size")->num);
	EXPECT_EQ(100, json_get(&v, "max_entries")->num);
	EXPECT_EQ(50, json_get(&v, "capacity_hint")->num);
	EXPECT_EQ(UNPRIV_UID, json_get(&v, "owner_uid")->num);
	EXPECT_STREQ("scores", json_get(&v, "published")->str);
	EXPECT_STREQ("0640", json_get(&v, "pub_mode")->str);
	EXPECT_EQ(J_BOOL, json_get(&v, "rdonly")->type);

	/* The owner lists it; root lists it too. */
	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "-j", "list"));
	ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
	ASSERT_EQ(J_ARR, v.type);
	for (i = 0, seen = 0; i < v.n; i++)
		seen += !strcmp(json_get(&v.kids[i], "name")->str, "scores");
	EXPECT_EQ(1, seen);
	/* Another user may not open it by id, so does not see it. */
	ASSERT_EQ(0, CTL(o, OTHER_UID, "-j", "list"));
	ASSERT_TRUE(json_parse(o->text, &v));
	for (i = 0, seen = 0; i < v.n; i++)
		seen += !strcmp(json_get(&v.kids[i], "name")->str, "scores");
	EXPECT_EQ(0, seen);

	/* Errors in JSON mode are JSON too. */
	EXPECT_EQ(1, CTL(o, UNPRIV_UID, "-j", "lookup", "name", "scores", "key",
			 "u32", "999"));
	ASSERT_TRUE(json_parse(strchr(o->text, '{'), &v)) TH_LOG("%s", o->text);
	EXPECT_STREQ("ENOENT", json_get(&v, "errno")->str);
}

TEST_F(ctl, verbs_and_data_formats)
{
	struct out *o = &self->o;

	ASSERT_EQ(0, CTL(o, 0, "create", "scores", "key", "8", "value", "4",
			 "entries", "8"));
	ASSERT_EQ(0, CTL(o, 0, "update", "name", "scores", "key", "hex", "01",
			 "02", "03", "04", "05", "06", "07", "08", "value",
			 "0xdeadbeef"));
	ASSERT_EQ(0, CTL(o, 0, "lookup", "name", "scores", "key", "0x0102030405060708"));
	EXPECT_STREQ("key: 01 02 03 04 05 06 07 08  value: de ad be ef\n", o->text);
	EXPECT_EQ(1, CTL(o, 0, "update", "name", "scores", "key", "hex", "01",
			 "02", "03", "04", "05", "06", "07", "08", "value",
			 "u32", "7", "noexist"));
	EXPECT_NE(NULL, strstr(o->text, "EEXIST")) TH_LOG("%s", o->text);
	EXPECT_EQ(1, CTL(o, 0, "update", "name", "scores", "key", "u64", "5",
			 "value", "u32", "7", "exist"));
	EXPECT_NE(NULL, strstr(o->text, "ENOENT"));
	ASSERT_EQ(0, CTL(o, 0, "update", "name", "scores", "key", "u64", "5",
			 "value", "string", "abc"));
	ASSERT_EQ(0, CTL(o, 0, "-K", "u64", "-V", "string", "lookup", "name",
			 "scores", "key", "u64", "5"));
	EXPECT_STREQ("key: 5  value: abc\n", o->text);
	ASSERT_EQ(0, CTL(o, 0, "dump", "name", "scores"));
	EXPECT_NE(NULL, strstr(o->text, "Found 2 elements\n")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, CTL(o, 0, "open", "name", "scores", "rdonly"));
	EXPECT_NE(NULL, strstr(o->text, "read-only"));
	ASSERT_EQ(0, CTL(o, 0, "delete", "name", "scores", "key", "u64", "5"));
	EXPECT_EQ(1, CTL(o, 0, "delete", "name", "scores", "key", "u64", "5"));
	ASSERT_EQ(0, CTL(o, 0, "clear", "name", "scores"));
	ASSERT_EQ(0, CTL(o, 0, "dump", "name", "scores"));
	EXPECT_STREQ("Found 0 elements\n", o->text);
	EXPECT_EQ(1, CTL(o, 0, "publish", "name", "scores", "scores2", "mode", "0600"));
	EXPECT_NE(NULL, strstr(o->text, "EBUSY")) TH_LOG("%s", o->text);

	/* A key far larger than the value: getnext has room for the next key. */
	ASSERT_EQ(0, CTL(o, 0, "create", "bigkeys", "key", "64", "value", "1",
			 "entries", "4"));
	ASSERT_EQ(0, CTL(o, 0, "update", "name", "bigkeys", "key", "string",
			 "a-rather-long-key-name", "value", "hex", "07"));
	ASSERT_EQ(0, CTL(o, 0, "-K", "string", "getnext", "name", "bigkeys"));
	EXPECT_STREQ("next_key: a-rather-long-key-name\n", o->text);
	ASSERT_EQ(0, CTL(o, 0, "unpublish", "bigkeys"));

	/* prealloc takes the whole pool at creation, and show says so. */
	ASSERT_EQ(0, CTL(o, 0, "create", "pooled", "key", "8", "value", "8",
			 "entries", "16", "prealloc"));
	ASSERT_EQ(0, CTL(o, 0, "show", "name", "pooled"));
	EXPECT_NE(NULL, strstr(o->text, "  prealloc\n")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, CTL(o, 0, "-j", "show", "name", "pooled"));
	EXPECT_NE(NULL, strstr(o->text, "\"prealloc\":true")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, CTL(o, 0, "-j", "show", "name", "scores"));
	EXPECT_NE(NULL, strstr(o->text, "\"prealloc\":false")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, CTL(o, 0, "unpublish", "pooled"));

	/* Usage errors exit 2 and say what is wrong. */
	EXPECT_EQ(2, CTL(o, 0, "lookup", "name", "scores", "key", "u32", "1"));
	EXPECT_NE(NULL, strstr(o->text, "u32 is 4 bytes")) TH_LOG("%s", o->text);
	EXPECT_EQ(2, CTL(o, 0, "lookup", "name", "scores", "key", "01", "02"));
	EXPECT_EQ(2, CTL(o, 0, "lookup", "scores"));
	EXPECT_EQ(2, CTL(o, 0, "frobnicate"));
	EXPECT_EQ(2, CTL(o, 0, "create", "x", "key", "8"));
	EXPECT_EQ(0, CTL(o, 0, "--help"));
	EXPECT_NE(NULL, strstr(o->text, "Usage: hmapctl"));
	EXPECT_EQ(0, CTL(o, 0, "help", "update"));
	EXPECT_NE(NULL, strstr(o->text, "noexist"));
	EXPECT_EQ(0, CTL(o, 0, "dump", "--help"));
	EXPECT_EQ(1, CTL(o, 0, "show", "name", "no_such_map"));
	EXPECT_NE(NULL, strstr(o->text, "ENOENT: No such file or directory"));
}

TEST_HARNESS_MAIN
