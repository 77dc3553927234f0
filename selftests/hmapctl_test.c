// SPDX-License-Identifier: GPL-2.0
/*
 * hmapctl end to end, in the VM: one user creates, publishes and writes a
 * map, another reads it back; JSON output is parsed back and checked; errors
 * print their errno name and exit non-zero.
 */
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "kselftest_harness.h"
#include "hmap_util.h"
#include "json.h"

/*
 * hmapctl sits beside this program: in /hmap/tests in the VM, in the
 * kselftest directory (TEST_GEN_PROGS_EXTENDED) elsewhere.
 */
static const char *hmapctl_path(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n;

	if (!path[0]) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - sizeof("hmapctl"));
		if (n <= 0 || n >= (ssize_t)(sizeof(exe) - sizeof("hmapctl")) ||
		    !memchr(exe, '/', n))
			return "/hmap/tests/hmapctl";
		exe[n] = 0;
		strcpy(strrchr(exe, '/') + 1, "hmapctl");
		strcpy(path, exe);
	}
	return path;
}

#define HMAPCTL hmapctl_path()

struct out {
	char text[65536];
	int status;
};

/*
 * Starts hmapctl as @uid, its stdout and stderr on the pipe *@out, which
 * hmapctl_read() and hmapctl_finish() read into @o.
 */
static pid_t hmapctl_start(struct out *o, uid_t uid, int *out,
			   const char *const *args)
{
	const char *argv[32] = { HMAPCTL };
	int pipefd[2], i;
	pid_t pid;

	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
			    setresuid(uid, uid, uid)))
			_exit(126);
		execv(HMAPCTL, (char **)argv);
		_exit(127);
	}
	close(pipefd[1]);
	*out = pipefd[0];
	o->text[0] = 0;
	return pid;
}

/* Runs hmapctl as @uid with stdout and stderr captured together. */
static int hmapctl(struct out *o, uid_t uid, const char *const *args)
{
	int out, n = 0, status;
	pid_t pid = hmapctl_start(o, uid, &out, args);
	ssize_t r;

	if (pid < 0)
		return -1;
	while ((r = read(out, o->text + n, sizeof(o->text) - 1 - n)) > 0)
		n += r;
	close(out);
	o->text[n] = 0;
	waitpid(pid, &status, 0);
	o->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	return o->status;
}

#define CTL(o, uid, ...) hmapctl(o, uid, (const char *const[]){ __VA_ARGS__, NULL })

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

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

/*
 * lookup and dump through a mapping say so, agree with LOOKUP and
 * LOOKUP_BATCH, and refuse a map that has no image.
 */
TEST_F(ctl, mapped_lookup_and_dump)
{
	struct out *o = &self->o;
	char key[16];
	int i;

	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "create", "scores", "key", "8", "value",
			 "8", "entries", "64", "mode", "0644", "mmap")) TH_LOG("%s", o->text);
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "%d", i);
		ASSERT_EQ(0, CTL(o, UNPRIV_UID, "update", "name", "scores", "key",
				 "u64", key, "value", "u64", key));
	}
	ASSERT_EQ(0, CTL(o, 0, "show", "name", "scores"));
	EXPECT_NE(NULL, strstr(o->text, "mmap")) TH_LOG("%s", o->text);
	/* A read-only opener maps it: the other user. */
	ASSERT_EQ(0, CTL(o, OTHER_UID, "-K", "u64", "-V", "u64", "lookup", "name",
			 "scores", "key", "u64", "7", "mapped")) TH_LOG("%s", o->text);
	EXPECT_STREQ("key: 7  value: 7  (mapped)\n", o->text);
	ASSERT_EQ(0, CTL(o, OTHER_UID, "-j", "lookup", "name", "scores", "key",
			 "u64", "7", "version", "mapped")) TH_LOG("%s", o->text);
	EXPECT_NE(NULL, strstr(o->text, "\"mapped\":true")) TH_LOG("%s", o->text);
	EXPECT_EQ(1, CTL(o, OTHER_UID, "lookup", "name", "scores", "key", "u64",
			 "99", "mapped"));
	EXPECT_NE(NULL, strstr(o->text, "ENOENT")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, CTL(o, OTHER_UID, "-K", "u64", "-V", "u64", "dump", "name",
			 "scores", "mapped")) TH_LOG("%s", o->text);
	EXPECT_EQ(21, count_lines(o->text)) TH_LOG("%s", o->text);
	EXPECT_NE(NULL, strstr(o->text, "Found 20 elements (mapped)")) TH_LOG("%s", o->text);
	EXPECT_NE(NULL, strstr(o->text, "key: 19  value: 19")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "unpublish", "scores"));

	/* No image: ENODEV, exit 1. */
	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "create", "scores", "key", "8", "value",
			 "8", "entries", "64", "mode", "0644"));
	EXPECT_EQ(1, CTL(o, OTHER_UID, "lookup", "name", "scores", "key", "u64",
			 "1", "mapped"));
	EXPECT_NE(NULL, strstr(o->text, "ENODEV")) TH_LOG("%s", o->text);
	EXPECT_EQ(1, CTL(o, OTHER_UID, "dump", "name", "scores", "mapped"));
	EXPECT_NE(NULL, strstr(o->text, "ENODEV")) TH_LOG("%s", o->text);
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

#define CTL_START(o, out, uid, ...) \
	hmapctl_start(o, uid, out, (const char *const[]){ __VA_ARGS__, NULL })

/* Reads the pipe until a whole line holds @needle; false after 10 s. */
static bool hmapctl_read(int out, struct out *o, const char *needle)
{
	struct pollfd pfd = { .fd = out, .events = POLLIN };
	size_t n = strlen(o->text);
	const char *hit;
	ssize_t r;

	for (;;) {
		hit = strstr(o->text, needle);
		if (hit && strchr(hit, '\n'))
			return true;
		if (n >= sizeof(o->text) - 1 || poll(&pfd, 1, 10000) <= 0)
			return false;
		r = read(out, o->text + n, sizeof(o->text) - 1 - n);
		if (r <= 0)
			return false;
		n += r;
		o->text[n] = 0;
	}
}

/* Waits up to 10 s until @pid holds a watch fd; false if it never does. */
static bool has_watch(pid_t pid)
{
	char path[64], link[128];
	int tries, fd;
	ssize_t n;

	for (tries = 0; tries < 1000; tries++) {
		for (fd = 3; fd < 16; fd++) {
			snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			if (strstr(link, "watch"))
				return true;
		}
		usleep(10000);
	}
	return false;
}

/* Reads the pipe to its end, then reaps the child: its exit status. */
static int hmapctl_finish(pid_t pid, int out, struct out *o)
{
	size_t n = strlen(o->text);
	int status;
	ssize_t r;

	while ((r = read(out, o->text + n, sizeof(o->text) - 1 - n)) > 0)
		n += r;
	close(out);
	o->text[n] = 0;
	waitpid(pid, &status, 0);
	o->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return o->status;
}

/*
 * -V string / -K string with -j: valid UTF-8 comes out as it is, every byte
 * that is not part of a valid sequence as \u00XX, control characters
 * escaped; the text output shows valid UTF-8 too, and '.' for the rest.
 */
TEST_F(ctl, json_strings_are_utf8)
{
	static const struct {
		const char *arg;	/* the value, as given to hmapctl */
		const char *json;	/* what -j prints for it */
		const char *text;	/* what the text output prints */
	} cases[] = {
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"", "caf\xc3\xa9" },
		{ "\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xe2\x82\xac\xf0\x9f\x98\x80\"",
		  "\xe2\x82\xac\xf0\x9f\x98\x80" },
		{ "ok\xff", "\"ok\\u00ff\"", "ok." },
		/* A lead byte without its continuation; a lone continuation. */
		{ "caf\xc3" "x", "\"caf\\u00c3x\"", "caf.x" },
		{ "\xa9z", "\"\\u00a9z\"", ".z" },
		/* Overlong '/', a UTF-16 surrogate, above U+10FFFF. */
		{ "\xc0\xaf", "\"\\u00c0\\u00af\"", ".." },
		{ "\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"", "..." },
		{ "\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"", "...." },
		/* Control characters, quote, backslash, DEL. */
		{ "a\x01\"\\\x7f", "\"a\\u0001\\\"\\\\\\u007f\"", "a.\"\\." },
	};
	struct out *o = &self->o;
	char want[256];
	const struct jv *e;
	struct jv v;
	size_t i;

	ASSERT_EQ(0, CTL(o, 0, "create", "scores", "key", "8", "value", "16",
			 "entries", "16"));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char k[8];

		snprintf(k, sizeof(k), "%zu", i);
		ASSERT_EQ(0, CTL(o, 0, "update", "name", "scores", "key", "u64",
				 k, "value", "string", cases[i].arg)) TH_LOG("%s", o->text);
		ASSERT_EQ(0, CTL(o, 0, "-j", "-K", "u64", "-V", "string", "lookup",
				 "name", "scores", "key", "u64", k)) TH_LOG("%s", o->text);
		snprintf(want, sizeof(want), "{\"key\":%zu,\"value\":%s}\n", i,
			 cases[i].json);
		EXPECT_STREQ(want, o->text) TH_LOG("case %zu", i);
		ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
		e = json_get(&v, "value");
		ASSERT_NE(NULL, e);
		ASSERT_EQ(J_STR, e->type);
		/* json.h reads \u00XX as the byte XX: the bytes come back. */
		EXPECT_STREQ(cases[i].arg, e->str) TH_LOG("case %zu", i);
		ASSERT_EQ(0, CTL(o, 0, "-K", "u64", "-V", "string", "lookup",
				 "name", "scores", "key", "u64", k));
		snprintf(want, sizeof(want), "key: %zu  value: %s\n", i,
			 cases[i].text);
		EXPECT_STREQ(want, o->text) TH_LOG("case %zu", i);
	}

	/* Keys too, in dump. */
	ASSERT_EQ(0, CTL(o, 0, "clear", "name", "scores"));
	ASSERT_EQ(0, CTL(o, 0, "update", "name", "scores", "key", "string",
			 "\xc3\xa9t\xc3\xa9", "value", "string", "x"));
	ASSERT_EQ(0, CTL(o, 0, "-j", "-K", "string", "-V", "string", "dump",
			 "name", "scores"));
	EXPECT_STREQ("[{\"key\":\"\xc3\xa9t\xc3\xa9\",\"value\":\"x\"}]\n", o->text);
}

/* -p: the same JSON as -j, indented; it implies -j. */
TEST_F(ctl, pretty_json_parses_back)
{
	struct out *o = &self->o, compact;
	struct jv v, w;
	int i;

	ASSERT_EQ(0, CTL(o, 0, "create", "scores", "key", "4", "value", "16",
			 "entries", "16"));
	ASSERT_EQ(0, CTL(o, 0, "-p", "dump", "name", "scores"));
	EXPECT_STREQ("[]\n", o->text);
	ASSERT_EQ(0, CTL(o, 0, "update", "name", "scores", "key", "u32", "1",
			 "value", "string", "a,b:{c}[d]\xc3\xa9")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, CTL(o, 0, "-p", "-K", "u32", "-V", "string", "dump", "name",
			 "scores"));
	EXPECT_STREQ("[\n"
		     "    {\n"
		     "        \"key\": 1,\n"
		     "        \"value\": \"a,b:{c}[d]\xc3\xa9\"\n"
		     "    }\n"
		     "]\n", o->text);
	ASSERT_EQ(0, CTL(o, 0, "--pretty", "show", "name", "scores"));
	ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
	EXPECT_NE(NULL, strstr(o->text, "{\n    \"id\": ")) TH_LOG("%s", o->text);
	EXPECT_NE(NULL, strstr(o->text, ",\n    \"key_size\": 4,\n")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, CTL(&compact, 0, "-j", "show", "name", "scores"));
	ASSERT_TRUE(json_parse(compact.text, &w)) TH_LOG("%s", compact.text);
	ASSERT_EQ(J_OBJ, v.type);
	ASSERT_EQ(w.n, v.n);
	for (i = 0; i < v.n; i++) {
		EXPECT_STREQ(w.kids[i].name, v.kids[i].name);
		EXPECT_EQ(w.kids[i].type, v.kids[i].type);
		if (v.kids[i].type == J_STR)
			EXPECT_STREQ(w.kids[i].str, v.kids[i].str);
		/* The counters move with each command: not compared. */
	}
	ASSERT_EQ(0, CTL(o, 0, "-p", "list"));
	ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
	ASSERT_EQ(J_ARR, v.type);
	ASSERT_LE(1, v.n);
	/* Errors too; the message is on stderr, the object on stdout. */
	EXPECT_EQ(1, CTL(o, 0, "-p", "lookup", "name", "scores", "key", "u32", "2"));
	ASSERT_NE(NULL, strstr(o->text, "{\n    \"error\": ")) TH_LOG("%s", o->text);
	ASSERT_TRUE(json_parse(strstr(o->text, "{\n"), &v)) TH_LOG("%s", o->text);
	EXPECT_STREQ("ENOENT", json_get(&v, "errno")->str);
}

/* A usage mistake before the verb: one "hmapctl:", exit 2. */
TEST_F(ctl, option_errors_one_prefix)
{
	struct out *o = &self->o;

	EXPECT_EQ(2, CTL(o, 0, "-K", "bad", "list"));
	EXPECT_STREQ("hmapctl: -K: unknown type 'bad' (see 'hmapctl help')\n",
		     o->text);
	EXPECT_EQ(2, CTL(o, 0, "-V", "u16", "dump", "name", "x"));
	EXPECT_STREQ("hmapctl: -V: unknown type 'u16' (see 'hmapctl help')\n",
		     o->text);
	/* After the verb, the verb is the prefix, as before. */
	EXPECT_EQ(2, CTL(o, 0, "lookup", "scores"));
	EXPECT_EQ(0, strncmp(o->text, "hmapctl lookup: ", 16)) TH_LOG("%s", o->text);
}

/*
 * -K u32 / -K u64 / -V u32 / -V u64 on keys or values of another size:
 * a usage error before anything is done, not hex.
 */
TEST_F(ctl, number_format_of_wrong_size_is_an_error)
{
	struct out *o = &self->o;
	int out;
	pid_t pid;

	ASSERT_EQ(0, CTL(o, 0, "create", "scores", "key", "8", "value", "4",
			 "entries", "16"));
	ASSERT_EQ(0, CTL(o, 0, "update", "name", "scores", "key", "u64", "1",
			 "value", "u32", "7"));

	EXPECT_EQ(2, CTL(o, 0, "-K", "u32", "lookup", "name", "scores", "key",
			 "u64", "1"));
	EXPECT_STREQ("hmapctl lookup: -K u32: the map's keys are 8 bytes, not 4 (see 'hmapctl help lookup')\n",
		     o->text);
	EXPECT_EQ(2, CTL(o, 0, "-V", "u64", "lookup", "name", "scores", "key",
			 "u64", "1"));
	EXPECT_STREQ("hmapctl lookup: -V u64: the map's values are 4 bytes, not 8 (see 'hmapctl help lookup')\n",
		     o->text);
	EXPECT_EQ(2, CTL(o, 0, "-j", "-K", "u32", "dump", "name", "scores"));
	EXPECT_NE(NULL, strstr(o->text, "-K u32: the map's keys are 8 bytes")) TH_LOG("%s", o->text);
	EXPECT_EQ(NULL, strchr(o->text, '[')) TH_LOG("%s", o->text);
	EXPECT_EQ(2, CTL(o, 0, "-K", "u32", "getnext", "name", "scores"));
	EXPECT_NE(NULL, strstr(o->text, "-K u32: the map's keys are 8 bytes")) TH_LOG("%s", o->text);
	EXPECT_EQ(2, CTL(o, 0, "-K", "u32", "mget", "name", "scores", "key",
			 "u64", "1"));
	EXPECT_NE(NULL, strstr(o->text, "-K u32: the map's keys are 8 bytes")) TH_LOG("%s", o->text);
	EXPECT_EQ(2, CTL(o, 0, "-V", "u64", "cas", "name", "scores", "key",
			 "u64", "1", "expect", "u32", "7", "value", "u32", "8"));
	EXPECT_NE(NULL, strstr(o->text, "-V u64: the map's values are 4 bytes")) TH_LOG("%s", o->text);
	pid = CTL_START(o, &out, 0, "-V", "u64", "watch", "name", "scores",
			"values", "count", "1");
	ASSERT_LT(0, pid);
	EXPECT_EQ(2, hmapctl_finish(pid, out, o));
	EXPECT_NE(NULL, strstr(o->text, "-V u64: the map's values are 4 bytes")) TH_LOG("%s", o->text);
	/* cas refused before it changed anything. */
	ASSERT_EQ(0, CTL(o, 0, "-K", "u64", "-V", "u32", "lookup", "name",
			 "scores", "key", "u64", "1"));
	EXPECT_STREQ("key: 1  value: 7\n", o->text);
	/* Hex and string fit any size. */
	ASSERT_EQ(0, CTL(o, 0, "-K", "hex", "-V", "string", "lookup", "name",
			 "scores", "key", "u64", "1"));
	EXPECT_STREQ("key: 01 00 00 00 00 00 00 00  value: .\n", o->text);
}

/* --version and -V: hmapctl's, libhmap's and the loaded module's. */
TEST_F(ctl, version_names_module)
{
	struct out *o = &self->o;
	char ctl_v[32], lib_v[32], mod_v[32];
	struct jv v;

	EXPECT_EQ(0, CTL(o, UNPRIV_UID, "--version"));
	ASSERT_EQ(3, sscanf(o->text, "hmapctl: %31s\nlibhmap: %31s\nmodule: %31s\n",
			    ctl_v, lib_v, mod_v)) TH_LOG("%s", o->text);
	/* One source tree: the same version; the module's is its own. */
	EXPECT_STREQ(ctl_v, lib_v);
	EXPECT_STREQ("0.1.0", mod_v);
	EXPECT_EQ('\n', o->text[strlen(o->text) - 1]);
	EXPECT_EQ(3, count_lines(o->text)) TH_LOG("%s", o->text);
	EXPECT_EQ(0, CTL(o, UNPRIV_UID, "-V"));
	ASSERT_EQ(3, sscanf(o->text, "hmapctl: %31s\nlibhmap: %31s\nmodule: %31s\n",
			    ctl_v, lib_v, mod_v)) TH_LOG("%s", o->text);
	EXPECT_STREQ("0.1.0", mod_v);
	EXPECT_EQ(0, CTL(o, UNPRIV_UID, "-j", "--version"));
	ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
	EXPECT_STREQ("0.1.0", json_get(&v, "module")->str);
	EXPECT_STREQ(lib_v, json_get(&v, "libhmap")->str);
	EXPECT_STREQ(ctl_v, json_get(&v, "hmapctl")->str);
	/* Unreadable /dev/hmap: says why, still exit 0. */
	ASSERT_EQ(0, chmod(HMAP_DEV_PATH, 0600));
	EXPECT_EQ(0, CTL(o, UNPRIV_UID, "--version"));
	EXPECT_NE(NULL, strstr(o->text, "\nmodule: unknown (EACCES: Permission denied)\n"))
		TH_LOG("%s", o->text);
	ASSERT_EQ(0, chmod(HMAP_DEV_PATH, 0666));
}

/* What /dev/hmap is for hmapctl_dev(). */
enum fake_dev {
	NO_DEV,		/* absent: the module is not loaded */
	ENOTTY_DEV,	/* /dev/null: every ioctl fails with ENOTTY */
};

/*
 * Runs hmapctl as root with a /dev of its own (a tmpfs, in a new mount
 * namespace) where /dev/hmap is as @dev says; stdout and stderr captured
 * apart, into @o and @err.
 */
static int hmapctl_dev(struct out *o, struct out *err, enum fake_dev dev,
		       const char *const *args)
{
	const char *argv[32] = { HMAPCTL };
	int po[2], pe[2], i, status;
	ssize_t r;
	size_t n;
	pid_t pid;

	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (pipe(po) || pipe(pe))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", "/dev", "tmpfs", 0, NULL) ||
		    (dev == ENOTTY_DEV &&
		     mknod(HMAP_DEV_PATH, S_IFCHR | 0666, makedev(1, 3))))
			_exit(126);
		execv(HMAPCTL, (char **)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	/* Small outputs: the pipes hold them until hmapctl is done. */
	waitpid(pid, &status, 0);
	for (n = 0; (r = read(po[0], o->text + n, sizeof(o->text) - 1 - n)) > 0;)
		n += r;
	o->text[n] = 0;
	for (n = 0; (r = read(pe[0], err->text + n, sizeof(err->text) - 1 - n)) > 0;)
		n += r;
	err->text[n] = 0;
	close(po[0]);
	close(pe[0]);
	o->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	return o->status;
}

#define CTL_DEV(o, err, dev, ...) \
	hmapctl_dev(o, err, dev, (const char *const[]){ __VA_ARGS__, NULL })

/*
 * No /dev/hmap: no verb answers as if there were no maps or no such map;
 * each fails, saying the module is not loaded. --version still answers.
 */
TEST_F(ctl, no_device_says_module_not_loaded)
{
	static const char msg[] =
		": /dev/hmap: ENODEV: No such device: is the hmap module loaded?\n";
	struct out *o = &self->o, err;
	char want[256];
	struct jv v;

	EXPECT_EQ(1, CTL_DEV(o, &err, NO_DEV, "list"));
	EXPECT_STREQ("", o->text);
	snprintf(want, sizeof(want), "hmapctl list%s", msg);
	EXPECT_STREQ(want, err.text);
	EXPECT_EQ(1, CTL_DEV(o, &err, NO_DEV, "-j", "list"));
	ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
	EXPECT_STREQ("ENODEV", json_get(&v, "errno")->str);
	EXPECT_EQ(1, CTL_DEV(o, &err, NO_DEV, "show", "name", "scores"));
	snprintf(want, sizeof(want), "hmapctl show%s", msg);
	EXPECT_STREQ(want, err.text);
	EXPECT_EQ(1, CTL_DEV(o, &err, NO_DEV, "create", "x", "key", "8",
			     "value", "8", "entries", "4"));
	snprintf(want, sizeof(want), "hmapctl create%s", msg);
	EXPECT_STREQ(want, err.text);
	EXPECT_EQ(0, CTL_DEV(o, &err, NO_DEV, "--version"));
	EXPECT_NE(NULL, strstr(o->text, "\nmodule: not loaded (/dev/hmap missing)\n"))
		TH_LOG("%s", o->text);
	EXPECT_STREQ("", err.text);
}

/*
 * A module older than HMAP_IOC_FEATURES, or than a command, answers the
 * command with ENOTTY: hmapctl says which command the module lacks.
 */
TEST_F(ctl, older_module_says_what_it_lacks)
{
	struct out *o = &self->o, err;
	struct jv v;

	EXPECT_EQ(0, CTL_DEV(o, &err, ENOTTY_DEV, "--version"));
	EXPECT_NE(NULL, strstr(o->text, "\nmodule: older than 0.1.0 (no FEATURES)\n"))
		TH_LOG("%s", o->text);
	EXPECT_EQ(0, CTL_DEV(o, &err, ENOTTY_DEV, "-j", "--version"));
	ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
	EXPECT_EQ(J_NULL, json_get(&v, "module")->type);
	EXPECT_STREQ("older than 0.1.0 (no FEATURES)",
		     json_get(&v, "module_status")->str);

	EXPECT_EQ(1, CTL_DEV(o, &err, ENOTTY_DEV, "create", "x", "key", "8",
			     "value", "8", "entries", "4", "ttl"));
	EXPECT_STREQ("hmapctl create: create: ENOTTY: Inappropriate ioctl for device\n"
		     "hmapctl create: the loaded hmap module (older than 0.1.0) does not support HMAP_IOC_CREATE\n",
		     err.text);
	EXPECT_EQ(1, CTL_DEV(o, &err, ENOTTY_DEV, "-j", "list"));
	ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
	EXPECT_STREQ("ENOTTY", json_get(&v, "errno")->str);
	EXPECT_STREQ("the loaded hmap module (older than 0.1.0) does not support HMAP_IOC_GET_NEXT_ID",
		     json_get(&v, "unsupported")->str);
}

/*
 * watch, as a user who may only read the map: an update, a delete and a
 * clear, one line each, in text and in JSON Lines; a signal ends it with 0.
 */
TEST_F(ctl, watch_prints_changes)
{
	struct out *o = &self->o;
	char key[8] = "ada", want[512], *line, *save;
	__u64 value = 36, version = 0, seq;
	int out, fd, i, status;
	struct jv v;
	pid_t pid;

	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "create", "scores", "key", "8", "value",
			 "8", "entries", "64", "mode", "0644")) TH_LOG("%s", o->text);
	fd = hmap_open_by_name("scores", 0);
	ASSERT_LE(0, fd);

	/* Text, with values. */
	pid = CTL_START(o, &out, OTHER_UID, "-K", "string", "-V", "u64", "watch",
			"name", "scores", "values", "count", "3");
	ASSERT_LT(0, pid);
	ASSERT_TRUE(has_watch(pid));
	ASSERT_EQ(0, hmap_update_version(fd, key, &value, HMAP_ANY, &version));
	ASSERT_EQ(0, hmap_delete(fd, key));
	ASSERT_EQ(0, hmap_clear(fd));
	ASSERT_EQ(0, hmapctl_finish(pid, out, o)) TH_LOG("%s", o->text);
	snprintf(want, sizeof(want),
		 "seq: 1  update  key: ada  value: 36  version: %llu\n"
		 "seq: 2  delete  key: ada  value: 36  version: %llu\n"
		 "seq: 3  clear\n",
		 (unsigned long long)version, (unsigned long long)version);
	EXPECT_STREQ(want, o->text);

	/* JSON Lines, keys only. */
	pid = CTL_START(o, &out, OTHER_UID, "-j", "-K", "string", "watch", "name",
			"scores", "count", "3");
	ASSERT_LT(0, pid);
	ASSERT_TRUE(has_watch(pid));
	ASSERT_EQ(0, hmap_update_version(fd, key, &value, HMAP_ANY, &version));
	ASSERT_EQ(0, hmap_delete(fd, key));
	ASSERT_EQ(0, hmap_clear(fd));
	ASSERT_EQ(0, hmapctl_finish(pid, out, o)) TH_LOG("%s", o->text);
	for (i = 0, seq = 4, line = strtok_r(o->text, "\n", &save); line;
	     i++, seq++, line = strtok_r(NULL, "\n", &save)) {
		static const char *const ops[] = { "update", "delete", "clear" };

		ASSERT_LT(i, 3) TH_LOG("extra line %s", line);
		ASSERT_TRUE(json_parse(line, &v)) TH_LOG("%s", line);
		EXPECT_EQ(seq, json_get(&v, "seq")->num);
		EXPECT_STREQ(ops[i], json_get(&v, "op")->str);
		EXPECT_EQ(NULL, json_get(&v, "value"));
		if (i < 2) {
			EXPECT_STREQ("ada", json_get(&v, "key")->str);
			EXPECT_EQ(version, json_get(&v, "version")->num);
		} else {
			EXPECT_EQ(NULL, json_get(&v, "key"));
			EXPECT_EQ(NULL, json_get(&v, "version"));
		}
	}
	EXPECT_EQ(3, i);

	/* Interrupted: exit 0, nothing printed. */
	pid = CTL_START(o, &out, OTHER_UID, "watch", "name", "scores");
	ASSERT_LT(0, pid);
	ASSERT_TRUE(has_watch(pid));
	kill(pid, SIGTERM);
	EXPECT_EQ(0, hmapctl_finish(pid, out, o)) TH_LOG("%s", o->text);
	EXPECT_STREQ("", o->text);
	pid = CTL_START(o, &out, OTHER_UID, "watch", "name", "scores");
	ASSERT_LT(0, pid);
	ASSERT_TRUE(has_watch(pid));
	kill(pid, SIGINT);
	EXPECT_EQ(0, hmapctl_finish(pid, out, o)) TH_LOG("%s", o->text);

	/*
	 * A reader stopped while 1000 updates fill a 4 KiB buffer: the records
	 * that fit, then one overflow line with the number lost after them.
	 */
	pid = CTL_START(o, &out, OTHER_UID, "-j", "-V", "u64", "watch", "name",
			"scores", "values", "buf", "4096");
	ASSERT_LT(0, pid);
	ASSERT_TRUE(has_watch(pid));
	kill(pid, SIGSTOP);
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status));
	for (i = 0; i < 1000; i++) {
		value = i;
		ASSERT_EQ(0, hmap_update(fd, key, &value, HMAP_ANY));
	}
	kill(pid, SIGCONT);
	EXPECT_TRUE(hmapctl_read(out, o, "\"op\":\"overflow\"")) TH_LOG("%s", o->text);
	kill(pid, SIGTERM);
	EXPECT_EQ(0, hmapctl_finish(pid, out, o)) TH_LOG("%s", o->text);
	for (i = 0, seq = 0, line = strtok_r(o->text, "\n", &save); line;
	     i++, line = strtok_r(NULL, "\n", &save)) {
		ASSERT_TRUE(json_parse(line, &v)) TH_LOG("%s", line);
		if (seq)
			EXPECT_EQ(seq + 1, json_get(&v, "seq")->num) TH_LOG("%s", line);
		seq = json_get(&v, "seq")->num;
		if (!strcmp(json_get(&v, "op")->str, "overflow"))
			break;
		EXPECT_STREQ("update", json_get(&v, "op")->str);
		EXPECT_EQ(i, json_get(&v, "value")->num);
	}
	ASSERT_NE(NULL, line);
	EXPECT_LT(0, i);
	EXPECT_EQ(1000 - i, json_get(&v, "lost")->num) TH_LOG("%s", line);
	EXPECT_EQ(NULL, strtok_r(NULL, "\n", &save));
	close(fd);

	EXPECT_EQ(2, CTL(o, OTHER_UID, "watch", "name", "scores", "count", "0"));
	EXPECT_EQ(2, CTL(o, OTHER_UID, "watch", "name", "scores", "bogus"));
	EXPECT_EQ(0, CTL(o, 0, "help", "watch"));
	EXPECT_NE(NULL, strstr(o->text, "overflow")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, CTL(o, UNPRIV_UID, "unpublish", "scores"));
}

/*
 * save and load. Maps are made here with libhmap, saved and loaded with
 * hmapctl, and compared entry by entry: every entry of one is looked up in
 * the other (LOOKUP_BATCH, then LOOKUP_MULTI), and the counts must match.
 */
#define SL_MAGIC_OFF	0
#define SL_KS_OFF	16
#define SL_HDR		128
#define SL_TAIL		24

/* zlib's CRC-32, as the save format uses it. */
static __u32 sl_crc32(__u32 crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int k;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? 0xedb88320U ^ (crc >> 1) : crc >> 1;
	}
	return ~crc;
}

static void sl_put_le32(unsigned char *p, __u32 v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* Key @i: its bytes first, unique while it fits, then a pattern. */
static void sl_key(unsigned char *k, __u32 ks, __u64 i, __u32 seed)
{
	__u32 b;

	for (b = 0; b < ks; b++)
		k[b] = b < 8 ? i >> (8 * b) : (unsigned char)(i * 31 + b * 7 + seed);
}

static void sl_value(unsigned char *v, __u32 vs, __u64 i, __u32 seed)
{
	__u32 b;

	for (b = 0; b < vs; b++)
		v[b] = (unsigned char)(i * 131 + b * 17 + seed + (b >> 8));
}

/* Makes a map of @n entries (keys 0..n-1) and publishes it; its fd. */
static int sl_make(const char *label, const char *name, mode_t mode,
		   __u32 ks, __u32 vs, __u32 max, __u32 cap, __u32 flags,
		   __u64 n, __u32 seed)
{
	struct hmap_create_opts o = { .sz = sizeof(o), .capacity_hint = cap,
				      .flags = flags };
	__u32 per = 1024, c, j;
	unsigned char *keys, *values;
	__u64 i;
	int fd;

	if ((size_t)per * vs > (4 << 20))
		per = 16;
	fd = hmap_create(label, ks, vs, max, &o);
	if (fd < 0)
		return fd;
	keys = malloc((size_t)per * ks);
	values = malloc((size_t)per * vs);
	for (i = 0; i < n; i += c) {
		c = n - i < per ? n - i : per;
		for (j = 0; j < c; j++) {
			sl_key(keys + (size_t)j * ks, ks, i + j, seed);
			sl_value(values + (size_t)j * vs, vs, i + j, seed);
		}
		if (hmap_update_batch(fd, keys, values, NULL, &c, HMAP_NOEXIST, 0)) {
			close(fd);
			fd = -EIO;
			break;
		}
	}
	free(keys);
	free(values);
	if (fd >= 0 && name && hmap_publish(fd, name, mode)) {
		close(fd);
		return -EIO;
	}
	return fd;
}

/*
 * Every entry of @a is in @b with the same value, and both hold as many:
 * the same content. Returns the entries compared, or -1.
 */
static long long sl_same_content(int a, int b)
{
	unsigned char *cur, *keys, *values, *got;
	struct hmap_info ia, ib;
	__u32 per, n, m, j, ks, vs;
	bool started = false;
	long long total = 0;
	__s32 *status;
	int ret;

	if (hmap_info(a, &ia) || hmap_info(b, &ib) || ia.count != ib.count ||
	    ia.key_size != ib.key_size || ia.value_size != ib.value_size)
		return -1;
	ks = ia.key_size;
	vs = ia.value_size;
	per = (1 << 20) / (ks + vs);
	per = per < 1 ? 1 : per > 1024 ? 1024 : per;
	cur = malloc(ks);
	keys = malloc((size_t)per * ks);
	values = malloc((size_t)per * vs);
	got = malloc((size_t)per * vs);
	status = malloc(per * sizeof(*status));
	do {
		n = per;
		ret = hmap_lookup_batch(a, started ? cur : NULL, cur, keys, values, &n);
		if (ret && ret != -ENOENT) {
			total = -1;
			break;
		}
		if (n)
			started = true;
		m = n;
		if (n && (hmap_lookup_multi(b, keys, got, status, &m) || m != n)) {
			total = -1;
			break;
		}
		for (j = 0; j < n; j++) {
			if (status[j] || memcmp(values + (size_t)j * vs,
						got + (size_t)j * vs, vs)) {
				total = -1;
				break;
			}
		}
		if (total < 0)
			break;
		total += n;
	} while (!ret);
	if (total >= 0 && total != ia.count)
		total = -1;
	free(cur);
	free(keys);
	free(values);
	free(got);
	free(status);
	return total;
}

/* The settings a save keeps are the same in @a and @b. */
static bool sl_same_settings(const struct hmap_info *a, const struct hmap_info *b)
{
	return a->key_size == b->key_size && a->value_size == b->value_size &&
	       a->max_entries == b->max_entries &&
	       a->capacity_hint == b->capacity_hint &&
	       (a->map_flags & ~HMAP_F_RDONLY) == (b->map_flags & ~HMAP_F_RDONLY) &&
	       !strcmp(a->name, b->name);
}

static bool sl_same_name(const struct hmap_info *a, const struct hmap_info *b)
{
	return !strcmp(a->pub_name, b->pub_name) && a->pub_uid == b->pub_uid &&
	       a->pub_gid == b->pub_gid && a->pub_mode == b->pub_mode;
}

/* Every map id this process may see, into @ids; how many. */
static int sl_ids(__u32 *ids, int max)
{
	__u32 id = 0;
	int n = 0;

	while (n < max && !hmap_get_next_id(id, &id))
		ids[n++] = id;
	return n;
}

static int sl_info_by_name(const char *name, struct hmap_info *info)
{
	int fd = hmap_open_by_name(name, HMAP_F_RDONLY), ret;

	if (fd < 0)
		return fd;
	ret = hmap_info(fd, info);
	close(fd);
	return ret;
}

static int sl_read_file(const char *path, unsigned char **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		return -1;
	*len = st.st_size;
	*buf = malloc(*len + 64);
	if (read(fd, *buf, *len) != (ssize_t)*len) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int sl_write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static const char *const sl_names[] = {
	"sl_a", "sl_b", "sl_big", "sl_cw", "sl_c", "sl_c2", "sl_r", "sl_rb",
	"sl_rc", "sl_rd", "sl_u1", "sl_u2", "sl_u3", NULL,
};

FIXTURE(sl) {
	struct out o;
	char dir[64];
};

FIXTURE_SETUP(sl)
{
	if (geteuid())
		SKIP(return, "restores owners and groups: needs root");
	strcpy(self->dir, "/tmp/hmap-sl.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(sl)
{
	char path[400];
	struct dirent *d;
	DIR *dir;
	int i;

	if (geteuid())
		return;
	for (i = 0; sl_names[i]; i++)
		hmap_unpublish(sl_names[i]);
	dir = opendir(self->dir);
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.' && (!d->d_name[1] ||
					    !strcmp(d->d_name, "..")))
			continue;
		snprintf(path, sizeof(path), "%s/%s", self->dir, d->d_name);
		if (unlink(path))
			rmdir(path);
	}
	if (dir)
		closedir(dir);
	rmdir(self->dir);
}

/* A path in the test's directory @dir, in @buf. */
static char *sl_path(char buf[128], const char *dir, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(buf, 128, "%s/", dir);
	va_start(ap, fmt);
	vsnprintf(buf + n, 128 - n, fmt, ap);
	va_end(ap);
	return buf;
}

/*
 * Odd sizes, every flag, a label other than the name: save, unpublish,
 * load; the new map has the same settings, name, owner, group, mode and
 * entries, and -j reports both.
 */
TEST_F(sl, round_trip_odd_sizes)
{
	static const struct {
		__u32 ks, vs, max, cap, flags, n;
		mode_t mode;
	} c[] = {
		{ 1, 1, 256, 0, 0, 256, 0600 },
		{ 3, 257, 4096, 2048, HMAP_F_LRU, 1500, 0640 },
		{ 512, 65536, 8, 8, HMAP_F_PREALLOC, 5, 0666 },
		{ 8, 8, 100, 0, HMAP_F_TTL, 0, 0604 },
		{ 16, 4, 20000, 0, HMAP_F_PREALLOC | HMAP_F_LRU, 10000, 0660 },
	};
	struct out *o = &self->o;
	struct hmap_info before, after;
	char anon[128];
	const struct jv *e;
	int i, fd, fd2;
	struct jv v;
	char id[16];

	for (i = 0; i < (int)ARRAY_SIZE(c); i++) {
		char file[128], tmp[160];

		sl_path(file, self->dir, "m%d.hmap", i);

		TH_LOG("key %u value %u flags 0x%x: %u entries", c[i].ks,
		       c[i].vs, c[i].flags, c[i].n);
		fd = sl_make("lbl", "sl_a", c[i].mode, c[i].ks, c[i].vs,
			     c[i].max, c[i].cap, c[i].flags, c[i].n, i);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, hmap_info(fd, &before));
		ASSERT_EQ(0, CTL(o, 0, "-j", "save", "name", "sl_a", file))
			TH_LOG("%s", o->text);
		ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
		EXPECT_EQ(c[i].n, json_get(&v, "entries")->num);
		EXPECT_EQ(before.id, json_get(&v, "map_id")->num);
		EXPECT_STREQ("sl_a", json_get(&v, "name")->str);
		EXPECT_STREQ(file, json_get(&v, "file")->str);
		/* Nothing left aside. */
		snprintf(tmp, sizeof(tmp), "%s.tmp", file);
		EXPECT_NE(0, access(tmp, F_OK));
		ASSERT_EQ(0, hmap_unpublish("sl_a"));

		ASSERT_EQ(0, CTL(o, 0, "-j", "load", file)) TH_LOG("%s", o->text);
		ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
		EXPECT_EQ(c[i].n, json_get(&v, "entries")->num);
		EXPECT_STREQ("sl_a", json_get(&v, "name")->str);
		e = json_get(&v, "replaced");
		ASSERT_NE(NULL, e);
		EXPECT_FALSE(e->b);
		fd2 = hmap_open_by_name("sl_a", HMAP_F_RDONLY);
		ASSERT_LE(0, fd2);
		ASSERT_EQ(0, hmap_info(fd2, &after));
		EXPECT_EQ(after.id, json_get(&v, "map_id")->num);
		EXPECT_NE(before.id, after.id);
		EXPECT_TRUE(sl_same_settings(&before, &after));
		EXPECT_TRUE(sl_same_name(&before, &after))
			TH_LOG("%s %u:%u %o vs %s %u:%u %o", before.pub_name,
			       before.pub_uid, before.pub_gid, before.pub_mode,
			       after.pub_name, after.pub_uid, after.pub_gid,
			       after.pub_mode);
		EXPECT_EQ(c[i].n, sl_same_content(fd, fd2));
		close(fd2);
		close(fd);

		/* Again under another name, mode and owner, in text. */
		snprintf(id, sizeof(id), "%u", after.id);
		ASSERT_EQ(0, CTL(o, 0, "load", file, "name", "sl_b", "mode",
				 "0400", "owner", "1000:1001")) TH_LOG("%s", o->text);
		EXPECT_NE(NULL, strstr(o->text, "published as sl_b\n"))
			TH_LOG("%s", o->text);
		ASSERT_EQ(0, sl_info_by_name("sl_b", &after));
		EXPECT_EQ(0400, after.pub_mode);
		EXPECT_EQ(UNPRIV_UID, after.pub_uid);
		EXPECT_EQ(OTHER_UID, after.pub_gid);
		EXPECT_EQ(c[i].n, after.count);
		ASSERT_EQ(0, hmap_unpublish("sl_b"));
		ASSERT_EQ(0, hmap_unpublish("sl_a"));
	}

	/* An unpublished map: saved by id, loaded only under a given name. */
	fd = sl_make(NULL, NULL, 0, 4, 4, 16, 0, 0, 3, 7);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &before));
	snprintf(id, sizeof(id), "%u", before.id);
	ASSERT_EQ(0, CTL(o, 0, "save", "id", id, sl_path(anon, self->dir, "anon.hmap")))
		TH_LOG("%s", o->text);
	EXPECT_EQ(1, CTL(o, 0, "load", anon));
	EXPECT_NE(NULL, strstr(o->text, "give 'name NAME'")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, CTL(o, 0, "load", anon, "name", "sl_b"))
		TH_LOG("%s", o->text);
	ASSERT_EQ(0, sl_info_by_name("sl_b", &after));
	EXPECT_EQ(0600, after.pub_mode);
	EXPECT_STREQ("", after.name);
	fd2 = hmap_open_by_name("sl_b", 0);
	EXPECT_EQ(3, sl_same_content(fd, fd2));
	close(fd2);
	close(fd);

	/* Usage mistakes exit 2. */
	EXPECT_EQ(2, CTL(o, 0, "save", "name", "sl_b"));
	EXPECT_EQ(2, CTL(o, 0, "load"));
	EXPECT_EQ(2, CTL(o, 0, "load", anon, "name", "bad/name"));
	EXPECT_EQ(2, CTL(o, 0, "load", anon, "mode", "0777"));
	EXPECT_EQ(2, CTL(o, 0, "load", anon, "owner", "1000"));
	EXPECT_EQ(2, CTL(o, 0, "load", anon, "any-sizes"));
	EXPECT_EQ(2, CTL(o, 0, "load", "--all", self->dir, "name", "x"));
	EXPECT_EQ(0, CTL(o, 0, "help", "save"));
	EXPECT_NE(NULL, strstr(o->text, "LOOKUP_BATCH")) TH_LOG("%s", o->text);
	EXPECT_EQ(1, CTL(o, 0, "load", sl_path(anon, self->dir, "missing.hmap")));
	EXPECT_NE(NULL, strstr(o->text, "ENOENT")) TH_LOG("%s", o->text);
}

/*
 * A million 8-byte entries (100,000 on the debug kernel), with the time
 * save and load take.
 */
TEST_F_TIMEOUT(sl, million_entries, 600)
{
	bool debug = !access("/sys/kernel/debug/kmemleak", F_OK);
	__u32 n = debug ? 100000 : 1000000;
	struct hmap_info before, after;
	struct out *o = &self->o;
	struct timespec t0, t1, t2;
	char file[128];
	struct stat st;
	int fd, fd2;

	sl_path(file, self->dir, "big.hmap");
	fd = sl_make("big", "sl_big", 0600, 8, 8, n, n, 0, n, 1);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, hmap_info(fd, &before));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, CTL(o, 0, "save", "name", "sl_big", file)) TH_LOG("%s", o->text);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_EQ(0, stat(file, &st));
	EXPECT_EQ(SL_HDR + (off_t)n * 16 + SL_TAIL, st.st_size);
	ASSERT_EQ(0, hmap_unpublish("sl_big"));
	ASSERT_EQ(0, CTL(o, 0, "load", file)) TH_LOG("%s", o->text);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	ksft_print_msg("%u entries of 8+8 bytes%s: save %.2f s, load %.2f s\n",
		       n, debug ? " (debug kernel)" : "",
		       t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9,
		       t2.tv_sec - t1.tv_sec + (t2.tv_nsec - t1.tv_nsec) / 1e9);
	fd2 = hmap_open_by_name("sl_big", HMAP_F_RDONLY);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, hmap_info(fd2, &after));
	EXPECT_TRUE(sl_same_settings(&before, &after));
	EXPECT_TRUE(sl_same_name(&before, &after));
	EXPECT_EQ(n, sl_same_content(fd, fd2));
	close(fd2);
	close(fd);
}

#define CW_STABLE	20000
#define CW_MOVING	2000

/*
 * A writer keeps changing keys K1 (values record the key and the round,
 * and some are deleted and made again) while hmapctl saves; keys K2 are
 * never touched. The file loads (so no key is in it twice), holds every K2
 * key with its value, and each K1 key at most once with a value it had.
 */
TEST_F_TIMEOUT(sl, writers_during_save, 120)
{
	char file[128];
	struct out *o = &self->o;
	atomic_ullong *rounds;
	__u64 r0, r1, k, val, key;
	int fd, fd2, present = 0;
	struct hmap_info info;
	pid_t pid;

	sl_path(file, self->dir, "cw.hmap");
	rounds = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rounds);
	*rounds = 0;
	fd = hmap_create("cw", 8, 8, CW_STABLE + CW_MOVING, NULL);
	ASSERT_LE(0, fd);
	for (k = 0; k < CW_STABLE + CW_MOVING; k++) {
		val = k < CW_STABLE ? k * 3 + 1 : k;
		ASSERT_EQ(0, hmap_update(fd, &k, &val, HMAP_NOEXIST));
	}
	ASSERT_EQ(0, hmap_publish(fd, "sl_cw", 0600));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u64 r;

		for (r = 1;; r++) {
			for (k = CW_STABLE; k < CW_STABLE + CW_MOVING; k++) {
				val = r << 32 | k;
				if ((k + r) % 7 == 0)
					hmap_delete(fd, &k);
				else
					hmap_update(fd, &k, &val, HMAP_ANY);
			}
			*rounds = r;
		}
	}
	while (*rounds < 2)
		usleep(1000);
	r0 = *rounds;
	EXPECT_EQ(0, CTL(o, 0, "save", "name", "sl_cw", file)) TH_LOG("%s", o->text);
	r1 = *rounds;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	TH_LOG("the writer made %llu rounds of %d writes during the save",
	       (unsigned long long)(r1 - r0), CW_MOVING);
	EXPECT_LT(r0, r1);
	close(fd);
	ASSERT_EQ(0, hmap_unpublish("sl_cw"));

	ASSERT_EQ(0, CTL(o, 0, "load", file)) TH_LOG("%s", o->text);
	fd2 = hmap_open_by_name("sl_cw", HMAP_F_RDONLY);
	ASSERT_LE(0, fd2);
	for (key = 0; key < CW_STABLE; key++) {
		ASSERT_EQ(0, hmap_lookup(fd2, &key, &val)) TH_LOG("key %llu", key);
		ASSERT_EQ(key * 3 + 1, val);
	}
	for (key = CW_STABLE; key < CW_STABLE + CW_MOVING; key++) {
		if (hmap_lookup(fd2, &key, &val))
			continue;
		present++;
		/* The initial value, or one the writer wrote. */
		ASSERT_EQ(key, val & 0xffffffff) TH_LOG("key %llu", key);
		ASSERT_LE(val >> 32, r1 + 1) TH_LOG("key %llu", key);
	}
	ASSERT_EQ(0, hmap_info(fd2, &info));
	EXPECT_EQ(CW_STABLE + present, info.count);
	TH_LOG("%d of %d moving keys in the file", present, CW_MOVING);
	close(fd2);
	munmap(rounds, 4096);
}

/*
 * Corrupt, truncated and mismatched files are refused with exit 1 and a
 * message naming the problem, and leave no map behind: not published, and
 * every map made meanwhile freed.
 */
TEST_F(sl, corrupt_files_refused)
{
	struct bad {
		const char *what, *msg;
		long off;	/* byte to flip, or -1 */
		long cut;	/* bytes to remove at the end (< 0: append) */
		int ks;		/* new key size, header CRC fixed, or -1 */
		int version;	/* new version, header CRC fixed, or 0 */
		bool dup;	/* entry 2 gets entry 1's key, CRCs fixed */
	} bads[] = {
		{ "header byte", "header checksum mismatch",
		  20, 0, -1, 0, false },
		{ "header count", "header checksum mismatch",
		  48, 0, -1, 0, false },
		{ "entry byte", "entry checksum mismatch",
		  SL_HDR + 24 * 500 + 9, 0, -1, 0, false },
		{ "trailer count", "trailer checksum mismatch",
		  -SL_TAIL + 8, 0, -1, 0, false },
		{ "trailer CRC", "trailer checksum mismatch",
		  -SL_TAIL + 17, 0, -1, 0, false },
		{ "trailer magic", "no trailer",
		  -SL_TAIL + 1, 0, -1, 0, false },
		{ "magic", "not an hmap save file",
		  3, 0, -1, 0, false },
		{ "one entry short", "truncated: 1000 entries announced, 999 present",
		  -1, SL_TAIL + 6, -1, 0, false },
		{ "trailer short", "truncated: the trailer has 14 of 24 bytes",
		  -1, 10, -1, 0, false },
		{ "header only", "truncated: 1000 entries announced, 0 present",
		  -1, 24 * 1000 + SL_TAIL, -1, 0, false },
		{ "half a header", "truncated: the header has 64 of 128 bytes",
		  -1, 24 * 1000 + SL_TAIL + 64, -1, 0, false },
		{ "garbage appended", "7 bytes of garbage after the trailer",
		  -1, -7, -1, 0, false },
		{ "key size 0", "key size 0 out of range (1 to 512)",
		  -1, 0, 0, 0, false },
		{ "key size 100000", "key size 100000 out of range (1 to 512)",
		  -1, 0, 100000, 0, false },
		{ "version 2", "format version 2: this hmapctl reads version 1",
		  -1, 0, -1, 2, false },
		{ "a key twice", "corrupt: entry 2 repeats an earlier key",
		  -1, 0, -1, 0, true },
	};
	char good[128], bad_path[128], want[300];
	long long live0, live1;
	unsigned char *buf, *b;
	struct out *o = &self->o;
	__u32 ids0[4096], ids1[4096];
	int i, n0, n1, fd;
	size_t len, blen;
	struct jv v;

	sl_path(good, self->dir, "good.hmap");
	fd = sl_make("c", "sl_c", 0600, 8, 16, 2000, 0, 0, 1000, 3);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, CTL(o, 0, "save", "name", "sl_c", good)) TH_LOG("%s", o->text);
	ASSERT_EQ(0, sl_read_file(good, &buf, &len));
	ASSERT_EQ(SL_HDR + 24 * 1000 + SL_TAIL, len);
	snprintf(bad_path, sizeof(bad_path), "%s/bad.hmap", self->dir);
	b = malloc(len + 64);

	settle_frees();
	live0 = stat_num("maps_live");
	n0 = sl_ids(ids0, 4096);
	for (i = 0; i < (int)ARRAY_SIZE(bads); i++) {
		const struct bad *x = &bads[i];

		memcpy(b, buf, len);
		blen = len;
		if (x->off >= 0)
			b[x->off] ^= 0x10;
		else if (x->off < -1)
			b[len + x->off] ^= 0x10;
		if (x->cut > 0)
			blen -= x->cut;
		if (x->cut < 0) {
			memset(b + len, 0xab, -x->cut);
			blen += -x->cut;
		}
		if (x->ks >= 0 || x->version) {
			if (x->ks >= 0)
				sl_put_le32(b + SL_KS_OFF, x->ks);
			if (x->version)
				sl_put_le32(b + 8, x->version);
			sl_put_le32(b + 124, sl_crc32(0, b, 124));
		}
		if (x->dup) {
			unsigned char *tail = b + len - SL_TAIL;

			memcpy(b + SL_HDR + 24, b + SL_HDR, 8);
			sl_put_le32(tail + 16, sl_crc32(0, b + SL_HDR, len - SL_HDR - SL_TAIL));
			sl_put_le32(tail + 20, sl_crc32(0, tail, 20));
		}
		ASSERT_EQ(0, sl_write_file(bad_path, b, blen));
		EXPECT_EQ(1, CTL(o, 0, "load", bad_path, "name", "sl_c2"))
			TH_LOG("%s: %s", x->what, o->text);
		snprintf(want, sizeof(want), "hmapctl load: %s: %s", bad_path,
			 x->msg);
		EXPECT_NE(NULL, strstr(o->text, want))
			TH_LOG("%s: %s", x->what, o->text);
		/* One line. */
		EXPECT_EQ(strchr(o->text, '\n'), o->text + strlen(o->text) - 1)
			TH_LOG("%s: %s", x->what, o->text);
		EXPECT_EQ(-ENOENT, hmap_open_by_name("sl_c2", HMAP_F_RDONLY))
			TH_LOG("%s", x->what);
	}
	/* JSON: the error as an object. */
	EXPECT_EQ(1, CTL(o, 0, "-j", "load", bad_path, "name", "sl_c2"));
	ASSERT_TRUE(json_parse(strchr(o->text, '{'), &v)) TH_LOG("%s", o->text);
	EXPECT_STREQ(bad_path, json_get(&v, "file")->str);
	EXPECT_NE(NULL, strstr(json_get(&v, "error")->str, "repeats an earlier key"));
	/* Empty, and not a regular file. */
	ASSERT_EQ(0, sl_write_file(bad_path, b, 0));
	EXPECT_EQ(1, CTL(o, 0, "load", bad_path, "name", "sl_c2"));
	EXPECT_NE(NULL, strstr(o->text, "not an hmap save file")) TH_LOG("%s", o->text);
	EXPECT_EQ(1, CTL(o, 0, "load", self->dir, "name", "sl_c2"));
	EXPECT_NE(NULL, strstr(o->text, "not a regular file")) TH_LOG("%s", o->text);
	/* A taken name, without replace: refused before anything is made. */
	EXPECT_EQ(1, CTL(o, 0, "load", good));
	EXPECT_NE(NULL, strstr(o->text, "the name sl_c is taken")) TH_LOG("%s", o->text);

	settle_frees();
	live1 = stat_num("maps_live");
	n1 = sl_ids(ids1, 4096);
	EXPECT_EQ(live0, live1);
	ASSERT_EQ(n0, n1);
	EXPECT_EQ(0, memcmp(ids0, ids1, n0 * sizeof(ids0[0])));
	/* The good file still loads. */
	ASSERT_EQ(0, CTL(o, 0, "load", good, "name", "sl_c2")) TH_LOG("%s", o->text);
	free(b);
	free(buf);
}

/*
 * load ... replace switches a published name to the new map in one step:
 * a reader that keeps opening the name always finds a map, the old or the
 * new one. The name keeps its owner, group and mode. replace MAP NAME does
 * the same for a map at hand, which leaves its own name.
 */
TEST_F_TIMEOUT(sl, replace_switches_atomically, 120)
{
	char file[128];
	struct out *o = &self->o;
	atomic_int *shared;
	struct hmap_info info;
	__u64 key = 1, val;
	int fd, status, olds, news;
	const struct jv *e;
	struct jv v;
	pid_t pid;

	sl_path(file, self->dir, "r.hmap");
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, shared);
	memset(shared, 0, 4096);
	/* The new content, saved from a map that is gone by now. */
	fd = hmap_create("new", 8, 8, 16, NULL);
	ASSERT_LE(0, fd);
	val = 2;
	ASSERT_EQ(0, hmap_update(fd, &key, &val, HMAP_NOEXIST));
	ASSERT_EQ(0, hmap_publish(fd, "sl_rb", 0600));
	close(fd);
	ASSERT_EQ(0, CTL(o, 0, "save", "name", "sl_rb", file)) TH_LOG("%s", o->text);
	ASSERT_EQ(0, hmap_unpublish("sl_rb"));
	/* The map in use: name sl_r, owner 1000, group 1001, mode 0640. */
	fd = hmap_create("old", 8, 8, 16, NULL);
	ASSERT_LE(0, fd);
	val = 1;
	ASSERT_EQ(0, hmap_update(fd, &key, &val, HMAP_NOEXIST));
	ASSERT_EQ(0, hmap_publish_owner(fd, "sl_r", 0640, UNPRIV_UID, OTHER_UID));
	close(fd);

	EXPECT_EQ(1, CTL(o, 0, "load", file, "name", "sl_r"));
	EXPECT_NE(NULL, strstr(o->text, "give 'replace'")) TH_LOG("%s", o->text);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* shared[0]: stop; [1]: opens; [2]: old; [3]: new; [4]: errors */
		while (!shared[0]) {
			int rfd = hmap_open_by_name("sl_r", HMAP_F_RDONLY);
			__u64 k = 1, x = 0;

			shared[1]++;
			if (rfd < 0 || hmap_lookup(rfd, &k, &x) || (x != 1 && x != 2))
				shared[4]++;
			else
				shared[x + 1]++;
			if (rfd >= 0)
				close(rfd);
		}
		_exit(0);
	}
	while (shared[1] < 100)
		usleep(1000);
	ASSERT_EQ(0, CTL(o, 0, "-j", "load", file, "name", "sl_r", "replace"))
		TH_LOG("%s", o->text);
	ASSERT_TRUE(json_parse(o->text, &v)) TH_LOG("%s", o->text);
	e = json_get(&v, "replaced");
	ASSERT_NE(NULL, e);
	EXPECT_TRUE(e->b);
	news = shared[3];
	while (shared[3] < news + 100)
		usleep(1000);
	shared[0] = 1;
	waitpid(pid, &status, 0);
	olds = shared[2];
	news = shared[3];
	TH_LOG("%d opens: %d found the old map, %d the new one, %d neither",
	       shared[1], olds, news, shared[4]);
	EXPECT_EQ(0, shared[4]);
	EXPECT_LT(0, olds);
	EXPECT_LT(0, news);
	ASSERT_EQ(0, sl_info_by_name("sl_r", &info));
	EXPECT_STREQ("new", info.name);
	EXPECT_EQ(0640, info.pub_mode);
	EXPECT_EQ(UNPRIV_UID, info.pub_uid);
	EXPECT_EQ(OTHER_UID, info.pub_gid);

	/* replace MAP NAME: a map made with create leaves its own name. */
	ASSERT_EQ(0, CTL(o, 0, "create", "sl_rc", "key", "8", "value", "8",
			 "entries", "4"));
	ASSERT_EQ(0, CTL(o, 0, "update", "name", "sl_rc", "key", "u64", "1",
			 "value", "u64", "3"));
	ASSERT_EQ(0, CTL(o, 0, "replace", "name", "sl_rc", "sl_r")) TH_LOG("%s", o->text);
	EXPECT_EQ(-ENOENT, hmap_open_by_name("sl_rc", HMAP_F_RDONLY));
	ASSERT_EQ(0, CTL(o, 0, "-V", "u64", "lookup", "name", "sl_r", "key", "u64", "1"));
	EXPECT_NE(NULL, strstr(o->text, "value: 3")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, sl_info_by_name("sl_r", &info));
	EXPECT_EQ(0640, info.pub_mode);
	EXPECT_EQ(UNPRIV_UID, info.pub_uid);
	/* Other sizes: refused, and the map keeps its own name. */
	ASSERT_EQ(0, CTL(o, 0, "create", "sl_rd", "key", "4", "value", "8",
			 "entries", "4", "mode", "0644"));
	EXPECT_EQ(1, CTL(o, 0, "replace", "name", "sl_rd", "sl_r"));
	EXPECT_NE(NULL, strstr(o->text, "EINVAL")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, sl_info_by_name("sl_rd", &info));
	EXPECT_EQ(0644, info.pub_mode);
	EXPECT_EQ(1, CTL(o, 0, "replace", "name", "sl_rd", "sl_none"));
	EXPECT_NE(NULL, strstr(o->text, "ENOENT")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, sl_info_by_name("sl_rd", &info));
	ASSERT_EQ(0, CTL(o, 0, "replace", "name", "sl_rd", "sl_r", "any-sizes"))
		TH_LOG("%s", o->text);
	ASSERT_EQ(0, sl_info_by_name("sl_r", &info));
	EXPECT_EQ(4, info.key_size);
	EXPECT_EQ(-ENOENT, hmap_open_by_name("sl_rd", HMAP_F_RDONLY));
	/* load ... replace with other sizes: refused before loading. */
	EXPECT_EQ(1, CTL(o, 0, "load", file, "name", "sl_r", "replace"));
	EXPECT_NE(NULL, strstr(o->text, "any-sizes")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, CTL(o, 0, "load", file, "name", "sl_r", "replace", "any-sizes"))
		TH_LOG("%s", o->text);
	EXPECT_NE(NULL, strstr(o->text, "which replaced sl_r")) TH_LOG("%s", o->text);
	/* replace with a name not yet taken publishes it. */
	ASSERT_EQ(0, CTL(o, 0, "load", file, "name", "sl_rb", "replace"))
		TH_LOG("%s", o->text);
	EXPECT_NE(NULL, strstr(o->text, "published as sl_rb")) TH_LOG("%s", o->text);
	munmap(shared, 4096);
}

/*
 * The module upgrade path: three maps with their own names, modes, owners,
 * groups and contents; save --all; every name removed (as a reload would);
 * load --all brings back each one as it was. A bad file in the directory is
 * reported and does not stop the others.
 */
TEST_F_TIMEOUT(sl, upgrade_save_all_load_all, 120)
{
	static const struct {
		const char *name;
		mode_t mode;
		uid_t uid;
		gid_t gid;
		__u32 ks, vs, flags, n;
	} m[] = {
		{ "sl_u1", 0600, 0, 0, 8, 8, 0, 300 },
		{ "sl_u2", 0640, UNPRIV_UID, UNPRIV_UID, 16, 100, HMAP_F_LRU, 200 },
		{ "sl_u3", 0666, 0, OTHER_UID, 4, 4096, HMAP_F_PREALLOC, 50 },
	};
	struct hmap_info before[3], after;
	struct out *o = &self->o;
	char all[128], file[400];
	int fds[3], i, lines;
	struct dirent *d;
	char *line, *save;
	struct jv v;
	DIR *dp;

	sl_path(all, self->dir, "all");
	for (i = 0; i < 3; i++) {
		fds[i] = sl_make(m[i].name, NULL, 0, m[i].ks, m[i].vs, 1000, 0,
				 m[i].flags, m[i].n, 10 + i);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, hmap_publish_owner(fds[i], m[i].name, m[i].mode,
						m[i].uid, m[i].gid));
		ASSERT_EQ(0, hmap_info(fds[i], &before[i]));
	}
	ASSERT_EQ(0, CTL(o, 0, "-j", "save", "--all", all)) TH_LOG("%s", o->text);
	for (line = strtok_r(o->text, "\n", &save), lines = 0; line;
	     line = strtok_r(NULL, "\n", &save), lines++)
		ASSERT_TRUE(json_parse(line, &v)) TH_LOG("%s", o->text);
	EXPECT_LE(3, lines);
	/* Only these three: other suites' maps are none of this test's. */
	dp = opendir(all);
	ASSERT_NE(NULL, dp);
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.' || !strncmp(d->d_name, "sl_u", 4))
			continue;
		snprintf(file, sizeof(file), "%s/%s", all, d->d_name);
		unlink(file);
	}
	closedir(dp);
	for (i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "%s/%s.hmap", all, m[i].name);
		EXPECT_EQ(0, access(file, R_OK)) TH_LOG("%s", file);
		ASSERT_EQ(0, hmap_unpublish(m[i].name));
	}
	snprintf(file, sizeof(file), "%s/zz_bad.hmap", all);
	ASSERT_EQ(0, sl_write_file(file, "HMAPSAVE", 8));

	EXPECT_EQ(1, CTL(o, 0, "load", "--all", all)) TH_LOG("%s", o->text);
	EXPECT_NE(NULL, strstr(o->text, "zz_bad.hmap: truncated")) TH_LOG("%s", o->text);
	for (i = 0; i < 3; i++) {
		int fd = hmap_open_by_name(m[i].name, HMAP_F_RDONLY);

		ASSERT_LE(0, fd) TH_LOG("%s", m[i].name);
		ASSERT_EQ(0, hmap_info(fd, &after));
		EXPECT_TRUE(sl_same_settings(&before[i], &after)) TH_LOG("%s", m[i].name);
		EXPECT_TRUE(sl_same_name(&before[i], &after))
			TH_LOG("%s: %u:%u %o, now %u:%u %o", m[i].name,
			       before[i].pub_uid, before[i].pub_gid,
			       before[i].pub_mode, after.pub_uid, after.pub_gid,
			       after.pub_mode);
		EXPECT_EQ(m[i].n, sl_same_content(fds[i], fd)) TH_LOG("%s", m[i].name);
		close(fd);
	}
	unlink(file);
	/* Loaded again: every name is taken, unless replace. */
	EXPECT_EQ(1, CTL(o, 0, "load", "--all", all));
	EXPECT_NE(NULL, strstr(o->text, "the name sl_u3 is taken")) TH_LOG("%s", o->text);
	ASSERT_EQ(0, CTL(o, 0, "-j", "load", "--all", all, "replace"))
		TH_LOG("%s", o->text);
	for (line = strtok_r(o->text, "\n", &save), lines = 0; line;
	     line = strtok_r(NULL, "\n", &save), lines++) {
		ASSERT_TRUE(json_parse(line, &v)) TH_LOG("%s", line);
		EXPECT_TRUE(json_get(&v, "replaced")->b);
	}
	EXPECT_EQ(3, lines);
	/* A user saves only the maps it may open by id: its own. */
	chmod(HMAP_DEV_PATH, 0666);
	chmod(self->dir, 0777);
	snprintf(file, sizeof(file), "%s/user", self->dir);
	EXPECT_EQ(0, CTL(o, UNPRIV_UID, "save", "--all", file)) TH_LOG("%s", o->text);
	chmod(HMAP_DEV_PATH, 0600);
	for (i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "%s/user/%s.hmap", self->dir,
			 m[i].name);
		EXPECT_NE(0, access(file, F_OK)) TH_LOG("%s", file);
	}
	for (i = 0; i < 3; i++) {
		close(fds[i]);
		ASSERT_EQ(0, hmap_unpublish(m[i].name));
	}
}

TEST_HARNESS_MAIN
