// SPDX-License-Identifier: GPL-2.0
/*
 * hmapctl: inspect and change hmap maps from a shell, in the manner of
 * `bpftool map`.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libhmap.h"

/* From the Makefile: the version of the sources hmapctl was built from. */
#ifndef HMAPCTL_VERSION
#error "build with -DHMAPCTL_VERSION='\"MAJOR.MINOR.PATCH\"'"
#endif

enum fmt { FMT_HEX, FMT_U32, FMT_U64, FMT_STRING };

static const char *const fmt_names[] = { "hex", "u32", "u64", "string" };

static bool json;
static enum fmt key_fmt = FMT_HEX, value_fmt = FMT_HEX;
/* The verb running, for messages; NULL while the options are read. */
static const char *verb;

/*
 * The command hmapctl last gave the kernel and the flags it gave it with,
 * so that a failure with ENOTTY or EINVAL can say what the loaded module
 * lacks (see explain()). 0: none yet.
 */
static unsigned int last_cmd;
static __u64 last_flags;

static void attempt(unsigned int cmd, __u64 flags)
{
	last_cmd = cmd;
	last_flags = flags;
}

static const char usage_text[] =
"Usage: hmapctl [-j|-p] [-K TYPE] [-V TYPE] VERB [ARGS]\n"
"       hmapctl --version | -V\n"
"\n"
"Verbs:\n"
"  create NAME key SIZE value SIZE entries N [capacity N] [mode MODE]\n"
"         [prealloc] [lru] [ttl] [mmap]\n"
"                                create a map, label it NAME and publish it\n"
"                                as NAME (mode default 0600); -j prints it\n"
"  list                          maps this user may open by id\n"
"  show MAP                      describe a map\n"
"  open MAP [rdonly]             check that a map can be opened\n"
"  lookup MAP key DATA [version] [mapped]\n"
"                                print the value of a key (and its version)\n"
"  update MAP key DATA value DATA [any|noexist|exist] [version V] [ttl MS]\n"
"  delete MAP key DATA [version V]\n"
"  add MAP key DATA delta N [create] [ttl MS]\n"
"                                add N (signed) to a 4- or 8-byte counter\n"
"  cas MAP key DATA expect DATA value DATA\n"
"                                compare-and-swap the value\n"
"  mget MAP key DATA [key DATA]...\n"
"                                look up many keys in one call\n"
"  dump MAP [mapped]             every entry, in iteration order (LOOKUP_BATCH)\n"
"  getnext MAP [key DATA]        the key after DATA, or the first key\n"
"  clear MAP                     remove every entry\n"
"  watch MAP [values] [count N] [buf BYTES]\n"
"                                print the map's changes as they happen\n"
"  publish MAP NAME [mode MODE] [owner UID:GID]\n"
"                                give a map a published name\n"
"  unpublish NAME                remove a published name\n"
"  replace MAP NAME [any-sizes]  point the published NAME at MAP, in one step\n"
"  save MAP FILE                 write a map's settings and entries to FILE\n"
"  save --all DIR                every published map to DIR/NAME.hmap\n"
"  load FILE [name NAME] [mode MODE] [owner UID:GID] [replace] [any-sizes]\n"
"                                check FILE, make a map of it, publish it\n"
"  load --all DIR [replace] [any-sizes]\n"
"                                every DIR/*.hmap, under its saved name\n"
"  help [VERB]\n"
"\n"
"  MAP  := name NAME | id ID\n"
"  DATA := [hex] BYTE... | u32 N | u64 N | string STR\n"
"          BYTE is two hex digits, optionally 0x-prefixed; several may be\n"
"          run together (0x0102). Numbers are stored in host byte order;\n"
"          strings are NUL-padded to the key or value size.\n"
"\n"
"Options:\n"
"  -j, --json     JSON output, on one line (JSON Lines for watch)\n"
"  -p, --pretty   JSON output, indented (implies -j)\n"
"  -K TYPE        print keys as hex (default), u32, u64 or string\n"
"  -V TYPE        print values as hex (default), u32, u64 or string\n"
"                 u32 and u64 need keys (values) of 4 and 8 bytes. string\n"
"                 prints up to the first NUL: valid UTF-8 as it is, other\n"
"                 bytes as '.' (JSON: as \\u00XX, XX the byte), control\n"
"                 characters as '.' (JSON: escaped)\n"
"  --version, -V  hmapctl's, libhmap's and the loaded module's versions\n"
"                 (-V alone, with no TYPE after it)\n";

static const struct {
	const char *verb;
	const char *help;
} verb_help[] = {
	{ "create", "hmapctl create NAME key SIZE value SIZE entries N [capacity N] [mode MODE] [prealloc] [lru] [ttl] [mmap]\n"
		    "  Creates a map labelled NAME and publishes it as NAME with MODE\n"
		    "  (octal, a subset of 0666; default 0600), so that it outlives this\n"
		    "  command. capacity sizes the table so that N entries never resize it.\n"
		    "  prealloc allocates all N entries now, so inserts never allocate.\n"
		    "  lru: when full, an insert evicts an entry used long ago instead\n"
		    "  of failing with E2BIG. ttl: entries may be given a time to live.\n"
		    "  mmap: readers may map the map and look up without a system call\n"
		    "  ('lookup ... mapped'); implies prealloc, takes about twice its\n"
		    "  memory, excludes lru and ttl, and an insert into a full chain of\n"
		    "  16 keys fails with EMLINK.\n" },
	{ "list", "hmapctl list\n  Every live map this user may open by id (its own, or all for root).\n" },
	{ "show", "hmapctl show MAP\n"
		  "  Sizes, limits, count, memory, names, owner and counters of a map;\n"
		  "  its flags (prealloc, lru, ttl, mmap) and, for mmap, the bytes of\n"
		  "  its image (mmap_bytes).\n" },
	{ "open", "hmapctl open MAP [rdonly]\n  Opens the map (read-write unless rdonly) and says so.\n" },
	{ "lookup", "hmapctl lookup MAP key DATA [version] [mapped]\n"
		    "  Prints the key's value, and with 'version' its version; fails with\n"
		    "  ENOENT if absent. mapped: through a mapping of the map's image\n"
		    "  (a map created with mmap), as libhmap's hmap_mapped_lookup()\n"
		    "  does, with no LOOKUP command unless writers kept the reads from\n"
		    "  succeeding; the line ends with '(mapped)', or '(mapped, fell\n"
		    "  back to LOOKUP)' (-j: \"mapped\":true and \"fallback\":B).\n"
		    "  Another map fails with ENODEV.\n" },
	{ "update", "hmapctl update MAP key DATA value DATA [any|noexist|exist] [version V] [ttl MS]\n"
		    "  any: create or replace (default); noexist: create only;\n"
		    "  exist: replace only. version V: only if the entry still has\n"
		    "  version V (from 'lookup ... version'), else ESTALE; prints the\n"
		    "  new version. ttl MS: the entry is gone MS milliseconds from now\n"
		    "  (a map created with ttl).\n" },
	{ "delete", "hmapctl delete MAP key DATA [version V]\n  version V: only if the entry still has version V, else ESTALE.\n" },
	{ "add", "hmapctl add MAP key DATA delta N [create] [ttl MS]\n"
		 "  Adds N (signed, decimal or 0x hex) to the key's value, a 4- or\n"
		 "  8-byte unsigned integer that wraps around, in one atomic step;\n"
		 "  create makes an absent key start from 0, with ttl MS its time to\n"
		 "  live. Prints the old and new values.\n" },
	{ "cas", "hmapctl cas MAP key DATA expect DATA value DATA\n"
		 "  Sets the value to the second DATA only if it is the first;\n"
		 "  else fails with ESTALE and prints the value it holds.\n" },
	{ "mget", "hmapctl mget MAP key DATA [key DATA]...\n"
		  "  Looks up every key in one command (LOOKUP_MULTI); absent keys\n"
		  "  are listed as such, and the exit status is 0 all the same.\n" },
	{ "dump", "hmapctl dump MAP [mapped]\n"
		  "  Prints every entry. Entries deleted meanwhile are skipped.\n"
		  "  mapped: reads the map's image instead (a map created with mmap;\n"
		  "  another fails with ENODEV), with no system call per entry, one\n"
		  "  chain after the other in bucket order; each chain is copied in\n"
		  "  one walk that no write disturbed, retried while writers keep\n"
		  "  changing it, and given up (EAGAIN, exit 1) if they never stop.\n"
		  "  Every entry present throughout is printed once, no key twice.\n"
		  "  The last line says 'Found N elements (mapped)'; -j: each entry\n"
		  "  has \"mapped\":true.\n" },
	{ "getnext", "hmapctl getnext MAP [key DATA]\n  Prints the key after DATA (which need not exist), or the first key.\n" },
	{ "clear", "hmapctl clear MAP\n" },
	{ "watch", "hmapctl watch MAP [values] [count N] [buf BYTES]\n"
		   "  Prints every change of the map as it happens (HMAP_IOC_WATCH), one\n"
		   "  line each, until interrupted or after N lines (-j: one JSON object\n"
		   "  per line). values: updates and removals carry the value too.\n"
		   "  Lines: 'seq: S  update  key: K  [value: V  ]version: N', the same\n"
		   "  for delete, evict and expire, 'seq: S  clear', and\n"
		   "  'seq: S  overflow  lost: N' when the kernel's buffer (buf, default\n"
		   "  256 KiB) was full and N changes from S on were dropped: take the\n"
		   "  map anew (dump), then apply the lines that follow.\n"
		   "  A read-only map is enough.\n" },
	{ "publish", "hmapctl publish MAP NAME [mode MODE] [owner UID:GID]\n"
		     "  Publishes the map as NAME with MODE (octal, a subset of 0666;\n"
		     "  default 0600). The name's owner and group are the caller's, or\n"
		     "  UID and GID (that needs CAP_CHOWN). A map has one name at most.\n" },
	{ "unpublish", "hmapctl unpublish NAME\n" },
	{ "replace", "hmapctl replace MAP NAME [any-sizes]\n"
		     "  The published NAME names MAP from now on, in one step: opens of\n"
		     "  NAME get the old map or MAP, never neither; fds already open keep\n"
		     "  the map they opened, and the old map goes with its last fd. NAME\n"
		     "  keeps its owner, group and mode; the caller must own NAME, have\n"
		     "  created its map, or have CAP_SYS_ADMIN (write access to NAME is\n"
		     "  not enough). The sizes must be the old map's, unless any-sizes.\n"
		     "  A MAP given by its own published name leaves that name (a map has\n"
		     "  one at most), and gets it back if the replace fails:\n"
		     "    hmapctl create scores.new key 8 value 8 entries 1024\n"
		     "    (fill scores.new)\n"
		     "    hmapctl replace name scores.new scores\n" },
	{ "save", "hmapctl save MAP FILE\n"
		  "hmapctl save --all DIR\n"
		  "  Writes the map's key and value sizes, max_entries, capacity, flags\n"
		  "  (prealloc, lru, ttl, mmap), label, published name and the name's owner,\n"
		  "  group and mode, then every entry, to FILE (mode 0600): to FILE.tmp,\n"
		  "  fsync()ed and renamed, so that FILE is the old file or the whole\n"
		  "  new one, never a part. --all: every published map this user may\n"
		  "  open by id (every one, for root) to DIR/NAME.hmap (DIR is made\n"
		  "  if missing, mode 0700, and must be the caller's or root's, and\n"
		  "  writable by its owner only); a map that fails is reported, the\n"
		  "  others are still saved, and the exit status is 1.\n"
		  "  The map is read with LOOKUP_BATCH, and others may write it\n"
		  "  meanwhile: the file is no picture of one instant. Every entry\n"
		  "  present for the whole save is in it, once; an entry created or\n"
		  "  deleted during the save may be in it or not; an entry changed\n"
		  "  during the save is in it with one of the values it had meanwhile,\n"
		  "  never a mix of two; no key is in it twice. Versions, the time\n"
		  "  left to live of a ttl map's entries and an lru map's use times are\n"
		  "  not saved: loaded entries get new versions and never expire.\n"
		  "  The format (little-endian): a 128-byte header (HMAPSAVE, format\n"
		  "  version 1, header size, the settings above, the entry count, its\n"
		  "  CRC-32), the entries (key then value, the map's sizes each), and\n"
		  "  a 24-byte trailer (HMAPTAIL, the count, the CRC-32 of the entries,\n"
		  "  its own CRC-32). -j: a JSON object per map saved:\n"
		  "  {\"file\":...,\"name\":...,\"entries\":N,\"map_id\":ID}.\n" },
	{ "load",
		  "hmapctl load FILE [name NAME] [mode MODE] [owner UID:GID] [replace] [any-sizes]\n"
		  "hmapctl load --all DIR [replace] [any-sizes]\n"
		  "  Checks all of FILE first (magic, version, header checksum, sizes\n"
		  "  and limits, length, trailer, checksum of the entries), then makes\n"
		  "  a map with the saved settings, fills it with UPDATE_BATCH (a key\n"
		  "  there twice makes the file corrupt), and only then publishes it:\n"
		  "  as NAME (default: the saved name; required if there is none), with\n"
		  "  MODE and owner UID:GID (default: the saved ones; an owner or group\n"
		  "  other than the caller's needs CAP_CHOWN). A corrupt, truncated or\n"
		  "  unloadable file, or a taken name, is refused with one line naming\n"
		  "  the problem and exit status 1, and nothing is left: the new map\n"
		  "  goes with this command. replace: if NAME is taken, it switches to\n"
		  "  the new map in one step (as 'hmapctl replace'), keeping its own\n"
		  "  owner, group and mode; any-sizes: even if its map's sizes differ.\n"
		  "  The new map is the caller's, counted against the caller's limits.\n"
		  "  --all: every DIR/*.hmap, each under its saved name, owner, group\n"
		  "  and mode; a bad file is reported, the others are still loaded, and\n"
		  "  the exit status is 1. DIR and each file (no symbolic link) must be\n"
		  "  the caller's or root's and writable by their owner only, and\n"
		  "  DIR/NAME.hmap must be saved as NAME, as save --all writes it.\n"
		  "  -j: a JSON object per map loaded:\n"
		  "  {\"file\":...,\"name\":...,\"entries\":N,\"map_id\":ID,\"replaced\":B}.\n"
		  "  To upgrade the module without losing the maps (as root):\n"
		  "    hmapctl save --all DIR; unpublish every map (rmmod refuses while\n"
		  "    a map lives); rmmod hmap; insmod the new hmap.ko;\n"
		  "    hmapctl load --all DIR\n" },
	{ "help", "hmapctl help [VERB]\n" },
};

static void usage(FILE *out)
{
	fputs(usage_text, out);
}

static int verb_usage(const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(verb_help) / sizeof(verb_help[0]); i++) {
		if (!strcmp(v, verb_help[i].verb)) {
			fputs(verb_help[i].help, stdout);
			return 0;
		}
	}
	fprintf(stderr, "hmapctl: no verb '%s'\n", v);
	return 2;
}

/* "hmapctl VERB: " before a message, or "hmapctl: " before any verb. */
static void msg_prefix(void)
{
	if (verb)
		fprintf(stderr, "hmapctl %s: ", verb);
	else
		fputs("hmapctl: ", stderr);
}

/* A usage mistake: exit 2. */
static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	msg_prefix();
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (verb)
		fprintf(stderr, " (see 'hmapctl help %s')\n", verb);
	else
		fputs(" (see 'hmapctl help')\n", stderr);
	return 2;
}

/*
 * Length of the valid UTF-8 sequence @s starts with (of the @n bytes
 * there), or 0 if it starts none: RFC 3629, so no overlong forms, no
 * UTF-16 surrogates, nothing above U+10FFFF. *@cp: the code point.
 */
static size_t utf8_len(const unsigned char *s, size_t n, unsigned int *cp)
{
	size_t len, i;
	unsigned int c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xc2)	/* a continuation byte, or an overlong lead */
		return 0;
	if (s[0] < 0xe0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] < 0xf0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] < 0xf5) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

/*
 * @n bytes as a JSON string: valid UTF-8 as it is; '"', '\\', the control
 * characters and DEL escaped; and each byte that is not part of a valid
 * UTF-8 sequence as \u00XX, XX the byte (what a Latin-1 reading would
 * give), so that the output is always valid JSON.
 */
static void json_strn(const unsigned char *s, size_t n)
{
	unsigned int cp;
	size_t i, len;

	putchar('"');
	for (i = 0; i < n; i += len) {
		len = utf8_len(s + i, n - i, &cp);
		if (!len) {
			printf("\\u%04x", s[i]);
			len = 1;
		} else if (cp == '"' || cp == '\\') {
			printf("\\%c", cp);
		} else if (cp < 0x20 || cp == 0x7f) {
			printf("\\u%04x", cp);
		} else {
			fwrite(s + i, 1, len, stdout);
		}
	}
	putchar('"');
}

static void json_str(const char *s)
{
	json_strn((const unsigned char *)s, strlen(s));
}

/*
 * @n bytes as text: valid UTF-8 as it is, but for control characters (C0,
 * DEL and C1); those, and each byte not part of a valid sequence, as '.'.
 */
static void text_strn(const unsigned char *s, size_t n)
{
	unsigned int cp;
	size_t i, len;

	for (i = 0; i < n; i += len) {
		len = utf8_len(s + i, n - i, &cp);
		if (!len || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			putchar('.');
			len = len ? len : 1;
		} else {
			fwrite(s + i, 1, len, stdout);
		}
	}
}

/*
 * After a failure with ENOTTY or EINVAL: if the loaded module lacks the
 * command or a flag hmapctl last gave it (attempt()), says so on a line of
 * its own, and returns that sentence (static) for JSON; else NULL.
 */
static const char *explain(int err)
{
	static char why[160];
	struct hmap_features f;

	if ((err != ENOTTY && err != EINVAL) || !last_cmd || hmap_features(&f))
		return NULL;
	/* ENOTTY: the kernel does not know the command, whatever f says. */
	if (err == ENOTTY && last_cmd >= HMAP_CMD_BASE &&
	    last_cmd - HMAP_CMD_BASE < 64)
		f.commands &= ~(1ULL << (last_cmd - HMAP_CMD_BASE));
	if (hmap_check_feature(&f, last_cmd, last_flags, why, sizeof(why)) !=
	    -EOPNOTSUPP)
		return NULL;
	msg_prefix();
	fprintf(stderr, "%s\n", why);
	return why;
}

/*
 * "NAME: sentence" of an errno, into @buf; for ENODEV, which only opening
 * /dev/hmap returns, that the module is not loaded.
 */
static void errno_text(int err, char *buf, size_t len)
{
	const char *name = strerrorname_np(err);

	if (err == ENODEV)
		snprintf(buf, len, "%s: ENODEV: %s: is the hmap module loaded?",
			 HMAP_DEV_PATH, strerror(err));
	else
		snprintf(buf, len, "%s: %s", name ? name : "?", strerror(err));
}

/* A failed command, @msg saying why (errno @err): exit 1. */
static int fail_msg(int err, const char *msg)
{
	const char *name = strerrorname_np(err), *why;

	msg_prefix();
	fprintf(stderr, "%s\n", msg);
	why = explain(err);
	if (json) {
		printf("{\"error\":");
		json_str(msg);
		printf(",\"errno\":");
		json_str(name ? name : "?");
		if (why) {
			printf(",\"unsupported\":");
			json_str(why);
		}
		printf("}\n");
	}
	return 1;
}

/* A failed command: errno name and sentence, exit 1. */
static int fail(int err, const char *what)
{
	char msg[256], text[192];

	errno_text(err, text, sizeof(text));
	/* The device's message stands alone: no map was there to name. */
	if (err == ENODEV)
		snprintf(msg, sizeof(msg), "%s", text);
	else
		snprintf(msg, sizeof(msg), "%s: %s", what, text);
	return fail_msg(err, msg);
}

/*
 * Maps the image of the map of @fd, for the verbs' 'mapped'. Returns 0, or
 * 1 once the failure is printed: ENODEV here is the map's, not the
 * device's, which fail() would blame on a module not loaded.
 */
static int map_image(int fd, struct hmap_mapping **m)
{
	int ret;

	attempt(HMAP_CMD_INFO, 0);
	ret = hmap_mmap(fd, m);
	if (ret == -ENODEV)
		return fail_msg(ENODEV, "mmap: ENODEV: the map was not created with mmap");
	if (ret == -EPROTO)
		return fail_msg(EPROTO, "mmap: EPROTO: the map's image has a layout this hmapctl cannot read");
	if (ret)
		return fail(-ret, "mmap");
	return 0;
}

/* Ends a dump: the JSON array, or the count and how it was read (@how). */
static void print_dump_end(int n, const char *how)
{
	if (json)
		printf("]\n");
	else
		printf("Found %d element%s%s\n", n, n == 1 ? "" : "s", how);
}

/*
 * Marks an entry read through a mapping; @fallback: the lookup gave up on
 * it and asked the kernel (see hmap_mapped_lookup()).
 */
static void print_mapped(bool fallback)
{
	if (json)
		printf(",\"mapped\":true,\"fallback\":%s",
		       fallback ? "true" : "false");
	else
		printf("  (mapped%s)", fallback ? ", fell back to LOOKUP" : "");
}

/* Ends a verb that prints nothing on success (JSON: null). */
static int quiet_result(int ret, const char *what)
{
	if (ret)
		return fail(-ret, what);
	if (json)
		printf("null\n");
	return 0;
}

static bool parse_u64(const char *s, unsigned long long max,
		      unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && *s && !*end && *s != '-' && *out <= max;
}

/* Parses "UID:GID" (numbers). */
static bool parse_owner(const char *s, uid_t *uid, gid_t *gid)
{
	unsigned long long u, g;
	char *colon = strchr(s, ':'), *copy;
	bool ok;

	if (!colon)
		return false;
	copy = strndup(s, colon - s);
	if (!copy)
		return false;
	ok = parse_u64(copy, UINT32_MAX - 1, &u) &&
	     parse_u64(colon + 1, UINT32_MAX - 1, &g);
	free(copy);
	*uid = u;
	*gid = g;
	return ok;
}

/* Parses an octal mode, a subset of 0666. */
static bool parse_mode(const char *s, mode_t *mode)
{
	unsigned long m;
	char *end;

	errno = 0;
	m = strtoul(s, &end, 8);
	if (errno || !*s || *end || m & ~0666UL)
		return false;
	*mode = m;
	return true;
}

static bool parse_fmt(const char *s, enum fmt *f)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(s, fmt_names[i])) {
			*f = i;
			return true;
		}
	}
	return false;
}

/* Bytes a format needs its data to be: 4, 8, or 0 for any size. */
static size_t fmt_width(enum fmt f)
{
	return f == FMT_U32 ? 4 : f == FMT_U64 ? 8 : 0;
}

/*
 * -K and -V against the map about to be printed (@keys, @values: whether
 * its keys, its values are): u32 and u64 only for data of their size.
 * Returns 0, or 2 once the usage error is printed.
 */
static int check_fmts(const struct hmap_info *info, bool keys, bool values)
{
	size_t w = fmt_width(key_fmt);

	if (keys && w && w != info->key_size)
		return bad_usage("-K %s: the map's keys are %u bytes, not %zu",
				 fmt_names[key_fmt], info->key_size, w);
	w = fmt_width(value_fmt);
	if (values && w && w != info->value_size)
		return bad_usage("-V %s: the map's values are %u bytes, not %zu",
				 fmt_names[value_fmt], info->value_size, w);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Appends the bytes of one hex token; false if it is not one. */
static bool parse_hex_token(const char *s, unsigned char *buf, size_t cap,
			    size_t *len)
{
	size_t n;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	n = strlen(s);
	if (!n || n % 2)
		return false;
	for (; *s; s += 2) {
		int hi = hexval(s[0]), lo = hexval(s[1]);

		if (hi < 0 || lo < 0 || *len >= cap)
			return false;
		buf[(*len)++] = hi << 4 | lo;
	}
	return true;
}

static bool is_keyword(const char *s)
{
	static const char *const kw[] = {
		"key", "value", "any", "noexist", "exist", "version", "delta",
		"expect", "create", "ttl", "mapped", NULL,
	};
	int i;

	for (i = 0; kw[i]; i++)
		if (!strcmp(s, kw[i]))
			return true;
	return false;
}

/*
 * Parses DATA for a buffer of exactly @size bytes from argv[*i...]. Returns 0,
 * 2 for a usage error (printed).
 */
static int parse_data(int argc, char **argv, int *i, unsigned char *buf,
		      size_t size, const char *what)
{
	unsigned long long v;
	size_t len = 0;
	const char *t;

	if (*i >= argc)
		return bad_usage("%s: missing data", what);
	t = argv[*i];
	memset(buf, 0, size);
	if (!strcmp(t, "u32") || !strcmp(t, "u64")) {
		size_t w = t[1] == '3' ? 4 : 8;

		if (++*i >= argc)
			return bad_usage("%s: %s needs a number", what, t);
		if (!parse_u64(argv[*i], w == 4 ? UINT32_MAX : UINT64_MAX, &v))
			return bad_usage("%s: '%s' is not a %s", what, argv[*i], t);
		if (w != size)
			return bad_usage("%s: %s is %zu bytes, the map's %s are %zu",
					 what, t, w, what, size);
		if (w == 4) {
			uint32_t v32 = v;

			memcpy(buf, &v32, 4);
		} else {
			memcpy(buf, &v, 8);
		}
		++*i;
		return 0;
	}
	if (!strcmp(t, "string")) {
		if (++*i >= argc)
			return bad_usage("%s: string needs a value", what);
		len = strlen(argv[*i]);
		if (len > size)
			return bad_usage("%s: string is %zu bytes, the map's %s are %zu",
					 what, len, what, size);
		memcpy(buf, argv[*i], len);
		++*i;
		return 0;
	}
	if (!strcmp(t, "hex"))
		++*i;
	while (*i < argc && !is_keyword(argv[*i]) &&
	       parse_hex_token(argv[*i], buf, size, &len))
		++*i;
	if (len != size)
		return bad_usage("%s: got %zu bytes, the map's %s are %zu", what,
				 len, what, size);
	return 0;
}

/*
 * Key or value bytes in format @f. check_fmts() made sure that u32 and u64
 * have data of their size; watch records of another size (which the kernel
 * never sends) fall back to hex.
 */
static void print_data(const unsigned char *buf, size_t size, enum fmt f)
{
	size_t i;

	if (f == FMT_U32 && size == 4) {
		uint32_t v;

		memcpy(&v, buf, 4);
		printf("%" PRIu32, v);
		return;
	}
	if (f == FMT_U64 && size == 8) {
		uint64_t v;

		memcpy(&v, buf, 8);
		printf("%" PRIu64, v);
		return;
	}
	if (f == FMT_STRING) {
		size_t n = strnlen((const char *)buf, size);

		if (json)
			json_strn(buf, n);
		else
			text_strn(buf, n);
		return;
	}
	if (json) {
		putchar('[');
		for (i = 0; i < size; i++)
			printf("%s\"0x%02x\"", i ? "," : "", buf[i]);
		putchar(']');
		return;
	}
	for (i = 0; i < size; i++)
		printf("%s%02x", i ? " " : "", buf[i]);
}

/* Opens the map named by argv[*i...] ("name NAME" or "id ID"). */
static int open_map(int argc, char **argv, int *i, __u32 flags, int *fd)
{
	unsigned long long id;

	if (*i + 1 >= argc)
		return bad_usage("expected MAP: name NAME | id ID");
	if (!strcmp(argv[*i], "name")) {
		attempt(HMAP_CMD_OPEN_BY_NAME, flags);
		*fd = hmap_open_by_name(argv[*i + 1], flags);
	} else if (!strcmp(argv[*i], "id")) {
		if (!parse_u64(argv[*i + 1], UINT32_MAX, &id))
			return bad_usage("'%s' is not an id", argv[*i + 1]);
		attempt(HMAP_CMD_OPEN_BY_ID, flags);
		*fd = hmap_open_by_id(id, flags);
	} else {
		return bad_usage("expected MAP: name NAME | id ID, not '%s'",
				 argv[*i]);
	}
	*i += 2;
	if (*fd < 0)
		return fail(-*fd, "open");
	return 0;
}

static void print_info(const struct hmap_info *in)
{
	if (json) {
		printf("{\"id\":%u,\"name\":", in->id);
		json_str(in->name);
		printf(",\"published\":");
		json_str(in->pub_name);
		printf(",\"key_size\":%u,\"value_size\":%u,\"max_entries\":%u,"
		       "\"capacity_hint\":%u,\"count\":%u,\"bytes\":%llu,"
		       "\"buckets\":%u,\"owner_uid\":%u,\"rdonly\":%s,"
		       "\"pub_uid\":%u,\"pub_gid\":%u,\"pub_mode\":\"%04o\","
		       "\"lookups\":%llu,\"hits\":%llu,\"updates\":%llu,"
		       "\"deletes\":%llu,\"resizes\":%llu,\"adds\":%llu,"
		       "\"cmpxchgs\":%llu,\"conflicts\":%llu,\"evictions\":%llu,"
		       "\"expirations\":%llu,\"prealloc\":%s,\"lru\":%s,\"ttl\":%s,"
		       "\"mmap\":%s,\"mmap_bytes\":%llu}",
		       in->key_size, in->value_size, in->max_entries,
		       in->capacity_hint, in->count,
		       (unsigned long long)in->bytes, in->buckets, in->owner_uid,
		       in->map_flags & HMAP_F_RDONLY ? "true" : "false",
		       in->pub_uid, in->pub_gid, in->pub_mode,
		       (unsigned long long)in->lookups,
		       (unsigned long long)in->hits,
		       (unsigned long long)in->updates,
		       (unsigned long long)in->deletes,
		       (unsigned long long)in->resizes,
		       (unsigned long long)in->adds,
		       (unsigned long long)in->cmpxchgs,
		       (unsigned long long)in->conflicts,
		       (unsigned long long)in->evictions,
		       (unsigned long long)in->expirations,
		       in->map_flags & HMAP_F_PREALLOC ? "true" : "false",
		       in->map_flags & HMAP_F_LRU ? "true" : "false",
		       in->map_flags & HMAP_F_TTL ? "true" : "false",
		       in->map_flags & HMAP_F_MMAP ? "true" : "false",
		       (unsigned long long)in->mmap_bytes);
		return;
	}
	printf("%u: name %s  key %uB  value %uB  max_entries %u  count %u  bytes %llu%s%s%s",
	       in->id, in->name[0] ? in->name : "-", in->key_size,
	       in->value_size, in->max_entries, in->count,
	       (unsigned long long)in->bytes,
	       in->map_flags & HMAP_F_PREALLOC ? "  prealloc" : "",
	       in->map_flags & HMAP_F_LRU ? "  lru" : "",
	       in->map_flags & HMAP_F_TTL ? "  ttl" : "");
	/* The image comes on top of bytes: say how large it is. */
	if (in->map_flags & HMAP_F_MMAP)
		printf("  mmap  mmap_bytes %llu", (unsigned long long)in->mmap_bytes);
	putchar('\n');
	if (in->pub_name[0])
		printf("\tpublished %s  owner %u:%u  mode %04o\n", in->pub_name,
		       in->pub_uid, in->pub_gid, in->pub_mode);
	printf("\towner_uid %u  buckets %u  lookups %llu  hits %llu  updates %llu  deletes %llu  resizes %llu\n",
	       in->owner_uid, in->buckets, (unsigned long long)in->lookups,
	       (unsigned long long)in->hits, (unsigned long long)in->updates,
	       (unsigned long long)in->deletes,
	       (unsigned long long)in->resizes);
	if (in->adds || in->cmpxchgs || in->conflicts || in->evictions ||
	    in->expirations)
		printf("\tadds %llu  cmpxchgs %llu  conflicts %llu  evictions %llu  expirations %llu\n",
		       (unsigned long long)in->adds,
		       (unsigned long long)in->cmpxchgs,
		       (unsigned long long)in->conflicts,
		       (unsigned long long)in->evictions,
		       (unsigned long long)in->expirations);
}

static int cmd_create(int argc, char **argv)
{
	unsigned long long ks = 0, vs = 0, max = 0, cap = 0, mode = 0600;
	struct hmap_create_opts o = { .sz = sizeof(o) };
	struct hmap_info info;
	const char *name;
	int i = 1, fd, ret;

	if (argc < 2)
		return bad_usage("missing NAME");
	name = argv[i++];
	while (i < argc) {
		const char *kw = argv[i];
		unsigned long long *dst;

		if (!strcmp(kw, "prealloc")) {
			o.flags |= HMAP_F_PREALLOC;
			i++;
			continue;
		}
		if (!strcmp(kw, "lru")) {
			o.flags |= HMAP_F_LRU;
			i++;
			continue;
		}
		if (!strcmp(kw, "ttl")) {
			o.flags |= HMAP_F_TTL;
			i++;
			continue;
		}
		if (!strcmp(kw, "mmap")) {
			o.flags |= HMAP_F_MMAP;
			i++;
			continue;
		}
		if (!strcmp(kw, "key"))
			dst = &ks;
		else if (!strcmp(kw, "value"))
			dst = &vs;
		else if (!strcmp(kw, "entries"))
			dst = &max;
		else if (!strcmp(kw, "capacity"))
			dst = &cap;
		else if (!strcmp(kw, "mode"))
			dst = &mode;
		else
			return bad_usage("unknown argument '%s'", kw);
		if (i + 1 >= argc)
			return bad_usage("%s needs a number", kw);
		if (dst == &mode) {
			char *end;

			mode = strtoull(argv[i + 1], &end, 8);
			if (*end || !*argv[i + 1])
				return bad_usage("mode '%s' is not octal", argv[i + 1]);
		} else if (!parse_u64(argv[i + 1], UINT32_MAX, dst)) {
			return bad_usage("%s: '%s' is not a number", kw, argv[i + 1]);
		}
		i += 2;
	}
	if (!ks || !vs || !max)
		return bad_usage("key, value and entries are required");
	o.capacity_hint = cap;
	attempt(HMAP_CMD_CREATE, o.flags);
	fd = hmap_create(name, ks, vs, max, &o);
	if (fd < 0)
		return fail(-fd, "create");
	attempt(HMAP_CMD_PUBLISH, 0);
	ret = hmap_publish(fd, name, mode);
	if (ret) {
		close(fd);
		return fail(-ret, "publish");
	}
	ret = hmap_info(fd, &info);
	close(fd);
	if (ret)
		return fail(-ret, "info");
	if (json) {
		print_info(&info);
		putchar('\n');
	}
	return 0;
}

/*
 * Ends list's JSON array, if begun: before a failure's own object, so that
 * what was printed stays valid JSON.
 */
static void list_end(bool first)
{
	if (json)
		printf("%s]\n", first ? "[" : "");
}

static int cmd_list(int argc, char **argv)
{
	struct hmap_info info;
	__u32 id = 0;
	bool first = true;
	int ret, fd;

	if (argc > 1)
		return bad_usage("unexpected '%s'", argv[1]);
	/*
	 * Nothing is printed before the first answer: with no /dev/hmap
	 * (-ENODEV) there is no list, not an empty one.
	 */
	attempt(HMAP_CMD_GET_NEXT_ID, 0);
	while (!(ret = hmap_get_next_id(id, &id))) {
		attempt(HMAP_CMD_OPEN_BY_ID, HMAP_F_RDONLY);
		fd = hmap_open_by_id(id, HMAP_F_RDONLY);
		if (fd == -EPERM || fd == -ENOENT)
			continue;
		if (fd >= 0) {
			ret = hmap_info(fd, &info);
			close(fd);
		} else {
			ret = fd;
		}
		if (ret) {
			if (!first)
				list_end(first);
			return fail(-ret, fd < 0 ? "open" : "info");
		}
		if (json)
			putchar(first ? '[' : ',');
		print_info(&info);
		first = false;
	}
	if (ret != -ENOENT) {
		if (!first)
			list_end(first);
		return fail(-ret, "list");
	}
	list_end(first);
	return 0;
}

static int cmd_show(int argc, char **argv)
{
	struct hmap_info info;
	int i = 1, fd, ret;

	ret = open_map(argc, argv, &i, HMAP_F_RDONLY, &fd);
	if (ret)
		return ret;
	if (i != argc)
		return bad_usage("unexpected '%s'", argv[i]);
	ret = hmap_info(fd, &info);
	close(fd);
	if (ret)
		return fail(-ret, "info");
	print_info(&info);
	if (json)
		putchar('\n');
	return 0;
}

static int cmd_open(int argc, char **argv)
{
	struct hmap_info info;
	__u32 flags = 0;
	int i = 1, fd, ret;

	if (argc > 3 && !strcmp(argv[argc - 1], "rdonly")) {
		flags = HMAP_F_RDONLY;
		argc--;
	}
	ret = open_map(argc, argv, &i, flags, &fd);
	if (ret)
		return ret;
	if (i != argc)
		return bad_usage("unexpected '%s'", argv[i]);
	ret = hmap_info(fd, &info);
	close(fd);
	if (ret)
		return fail(-ret, "info");
	if (json)
		printf("{\"id\":%u,\"rdonly\":%s}\n", info.id,
		       flags ? "true" : "false");
	else
		printf("opened map %u %s\n", info.id,
		       flags ? "read-only" : "read-write");
	return 0;
}

/*
 * Opens MAP and reads "key DATA" into a fresh buffer. *@out points into the
 * same allocation, with room for a value or a second key; free *@key only.
 */
static int map_and_key(int argc, char **argv, int *i, __u32 flags, int *fd,
		       struct hmap_info *info, unsigned char **key,
		       unsigned char **out, bool key_optional)
{
	size_t koff;
	int ret;

	ret = open_map(argc, argv, i, flags, fd);
	if (ret)
		return ret;
	ret = hmap_info(*fd, info);
	if (ret)
		return fail(-ret, "info");
	koff = (info->key_size + 7) & ~7u;
	*key = calloc(1, koff + (info->key_size > info->value_size ?
				 info->key_size : info->value_size));
	if (!*key)
		return fail(ENOMEM, "alloc");
	*out = *key + koff;
	if (*i >= argc && key_optional)
		return 0;
	if (*i >= argc || strcmp(argv[*i], "key"))
		return bad_usage("expected 'key DATA'");
	++*i;
	return parse_data(argc, argv, i, *key, info->key_size, "keys");
}

/* An entry, its JSON object left open for more fields. */
static void print_entry_open(const unsigned char *key, size_t ks,
			     const unsigned char *value, size_t vs,
			     const char *vname)
{
	if (json) {
		printf("{\"key\":");
		print_data(key, ks, key_fmt);
		printf(",\"%s\":", vname);
		print_data(value, vs, vname[0] == 'v' ? value_fmt : key_fmt);
		return;
	}
	printf("key: ");
	print_data(key, ks, key_fmt);
	printf("  %s: ", vname);
	print_data(value, vs, vname[0] == 'v' ? value_fmt : key_fmt);
}

static void print_entry(const unsigned char *key, size_t ks,
			const unsigned char *value, size_t vs, const char *vname)
{
	print_entry_open(key, ks, value, vs, vname);
	if (json)
		putchar('}');
}

/* Parses "KW DATA" at argv[*i] into a value buffer; 2 for a usage error. */
static int parse_kw_data(int argc, char **argv, int *i, const char *kw,
			 unsigned char *buf, size_t size)
{
	if (*i >= argc || strcmp(argv[*i], kw))
		return bad_usage("expected '%s DATA'", kw);
	++*i;
	return parse_data(argc, argv, i, buf, size, "values");
}

/* Parses "version V" at argv[*i], if there; 2 for a usage error. */
static int parse_version(int argc, char **argv, int *i, bool *have,
			 __u64 *version)
{
	unsigned long long v;

	*have = false;
	if (*i >= argc || strcmp(argv[*i], "version"))
		return 0;
	if (*i + 1 >= argc || !parse_u64(argv[*i + 1], UINT64_MAX, &v))
		return bad_usage("version needs a number");
	*version = v;
	*have = true;
	*i += 2;
	return 0;
}

/* Parses "ttl MS" at argv[*i], if there; 2 for a usage error. */
static int parse_ttl(int argc, char **argv, int *i, __u64 *ttl_ms)
{
	unsigned long long v;

	*ttl_ms = 0;
	if (*i >= argc || strcmp(argv[*i], "ttl"))
		return 0;
	if (*i + 1 >= argc || !parse_u64(argv[*i + 1], HMAP_MAX_TTL_MS, &v) || !v)
		return bad_usage("ttl needs milliseconds, 1 to %llu",
				 (unsigned long long)HMAP_MAX_TTL_MS);
	*ttl_ms = v;
	*i += 2;
	return 0;
}

/*
 * Appends a version to an entry just printed (@inside: its JSON object is
 * still open), or prints it alone.
 */
static void print_version(__u64 version, bool inside)
{
	if (json && inside)
		printf(",\"version\":%llu", (unsigned long long)version);
	else if (json)
		printf("{\"version\":%llu", (unsigned long long)version);
	else
		printf("%sversion: %llu", inside ? "  " : "",
		       (unsigned long long)version);
}

/* Ends what print_entry() or print_version() began. */
static void print_end(void)
{
	if (json)
		putchar('}');
	putchar('\n');
}

/* A failed conditional command: the errno, and what the entry holds now. */
static int fail_stale(const char *what, __u64 version)
{
	int ret = fail(ESTALE, what);

	fprintf(stderr, "hmapctl %s: the entry changed: it now has version %llu\n",
		verb, (unsigned long long)version);
	return ret;
}

static int cmd_lookup(int argc, char **argv)
{
	struct hmap_mapping *m = NULL;
	struct hmap_mapped_stats st;
	struct hmap_info info;
	unsigned char *key = NULL, *value;
	int i = 1, fd = -1, ret;
	bool want_version = false, mapped = false;
	__u64 version = 0;

	ret = map_and_key(argc, argv, &i, HMAP_F_RDONLY, &fd, &info, &key, &value,
			  false);
	if (!ret)
		ret = check_fmts(&info, true, true);
	if (ret)
		goto out;
	/* Trailing words, in either order, each once. */
	for (; i < argc; i++) {
		if (!want_version && !strcmp(argv[i], "version")) {
			want_version = true;
		} else if (!mapped && !strcmp(argv[i], "mapped")) {
			mapped = true;
		} else {
			ret = bad_usage("unexpected '%s'", argv[i]);
			goto out;
		}
	}
	if (mapped) {
		ret = map_image(fd, &m);
		if (ret)
			goto out;
		/* For explain(), should the lookup fall back and fail. */
		attempt(HMAP_CMD_LOOKUP, 0);
		ret = hmap_mapped_lookup(m, key, value, &version);
		hmap_mapped_stats(m, &st);
	} else {
		attempt(HMAP_CMD_LOOKUP, 0);
		ret = hmap_lookup_version(fd, key, value, &version);
	}
	if (ret) {
		ret = fail(-ret, "lookup");
		goto out;
	}
	print_entry_open(key, info.key_size, value, info.value_size, "value");
	if (want_version)
		print_version(version, true);
	if (mapped)
		print_mapped(st.fallbacks);
	print_end();
out:
	hmap_munmap(m);
	free(key);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int cmd_update(int argc, char **argv)
{
	struct hmap_info info;
	unsigned char *key = NULL, *value;
	__u64 flags = HMAP_ANY, version = 0, ttl_ms;
	int i = 1, fd = -1, ret;
	bool have_version;

	ret = map_and_key(argc, argv, &i, 0, &fd, &info, &key, &value, false);
	if (ret)
		goto out;
	ret = parse_kw_data(argc, argv, &i, "value", value, info.value_size);
	if (ret)
		goto out;
	if (i < argc && strcmp(argv[i], "version") && strcmp(argv[i], "ttl")) {
		if (!strcmp(argv[i], "noexist"))
			flags = HMAP_NOEXIST;
		else if (!strcmp(argv[i], "exist"))
			flags = HMAP_EXIST;
		else if (strcmp(argv[i], "any")) {
			ret = bad_usage("unexpected '%s'", argv[i]);
			goto out;
		}
		i++;
	}
	ret = parse_version(argc, argv, &i, &have_version, &version);
	if (!ret)
		ret = parse_ttl(argc, argv, &i, &ttl_ms);
	if (ret)
		goto out;
	if (i != argc) {
		ret = bad_usage("unexpected '%s'", argv[i]);
		goto out;
	}
	if (have_version && ttl_ms) {
		ret = bad_usage("version and ttl do not go together");
		goto out;
	}
	if (!have_version) {
		attempt(HMAP_CMD_UPDATE, flags);
		ret = quiet_result(hmap_update_ttl(fd, key, value, flags, ttl_ms),
				   "update");
		goto out;
	}
	attempt(HMAP_CMD_UPDATE, flags | HMAP_IF_VERSION);
	ret = hmap_update_version(fd, key, value, flags | HMAP_IF_VERSION,
				  &version);
	if (ret == -ESTALE) {
		ret = fail_stale("update", version);
	} else if (ret) {
		ret = fail(-ret, "update");
	} else {
		print_version(version, false);
		print_end();
	}
out:
	free(key);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int cmd_delete(int argc, char **argv)
{
	struct hmap_info info;
	unsigned char *key = NULL, *unused;
	int i = 1, fd = -1, ret;

	bool have_version;
	__u64 version = 0;

	ret = map_and_key(argc, argv, &i, 0, &fd, &info, &key, &unused, false);
	if (ret)
		goto out;
	ret = parse_version(argc, argv, &i, &have_version, &version);
	if (ret)
		goto out;
	if (i != argc) {
		ret = bad_usage("unexpected '%s'", argv[i]);
		goto out;
	}
	attempt(HMAP_CMD_DELETE, have_version ? HMAP_IF_VERSION : 0);
	if (!have_version) {
		ret = quiet_result(hmap_delete(fd, key), "delete");
		goto out;
	}
	ret = hmap_delete_version(fd, key, &version);
	if (ret == -ESTALE)
		ret = fail_stale("delete", version);
	else
		ret = quiet_result(ret, "delete");
out:
	free(key);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int cmd_add(int argc, char **argv)
{
	struct hmap_info info;
	unsigned char *key = NULL, *unused;
	__u64 old = 0, new = 0, ttl_ms;
	__u32 flags = 0;
	int i = 1, fd = -1, ret;
	long long delta;
	char *end;

	ret = map_and_key(argc, argv, &i, 0, &fd, &info, &key, &unused, false);
	if (ret)
		goto out;
	if (i + 1 >= argc || strcmp(argv[i], "delta")) {
		ret = bad_usage("expected 'delta N'");
		goto out;
	}
	errno = 0;
	delta = strtoll(argv[i + 1], &end, 0);
	if (errno || !argv[i + 1][0] || *end) {
		ret = bad_usage("'%s' is not a signed 64-bit number", argv[i + 1]);
		goto out;
	}
	i += 2;
	if (i < argc && !strcmp(argv[i], "create")) {
		flags = HMAP_ADD_CREATE;
		i++;
	}
	ret = parse_ttl(argc, argv, &i, &ttl_ms);
	if (ret)
		goto out;
	if (i != argc) {
		ret = bad_usage("unexpected '%s'", argv[i]);
		goto out;
	}
	attempt(HMAP_CMD_ADD, flags);
	ret = hmap_add_ttl(fd, key, delta, flags, ttl_ms, &old, &new);
	if (ret) {
		ret = fail(-ret, "add");
		goto out;
	}
	if (json)
		printf("{\"old\":%llu,\"new\":%llu}\n", (unsigned long long)old,
		       (unsigned long long)new);
	else
		printf("old: %llu  new: %llu\n", (unsigned long long)old,
		       (unsigned long long)new);
out:
	free(key);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int cmd_cas(int argc, char **argv)
{
	unsigned char *key = NULL, *unused, *expect = NULL, *desired;
	struct hmap_info info;
	int i = 1, fd = -1, ret;
	__u64 version = 0;

	ret = map_and_key(argc, argv, &i, 0, &fd, &info, &key, &unused, false);
	if (!ret)
		ret = check_fmts(&info, true, true);
	if (ret)
		goto out;
	expect = calloc(2, info.value_size);
	if (!expect) {
		ret = fail(ENOMEM, "alloc");
		goto out;
	}
	desired = expect + info.value_size;
	ret = parse_kw_data(argc, argv, &i, "expect", expect, info.value_size);
	if (!ret)
		ret = parse_kw_data(argc, argv, &i, "value", desired,
				    info.value_size);
	if (ret)
		goto out;
	if (i != argc) {
		ret = bad_usage("unexpected '%s'", argv[i]);
		goto out;
	}
	attempt(HMAP_CMD_CMPXCHG, 0);
	ret = hmap_cmpxchg(fd, key, expect, desired, &version);
	if (ret == -ESTALE) {
		/* What the entry holds instead, for the next try. */
		ret = fail(ESTALE, "cas");
		print_entry_open(key, info.key_size, expect, info.value_size,
				 "value");
		print_version(version, true);
		print_end();
	} else if (ret) {
		ret = fail(-ret, "cas");
	} else {
		print_version(version, false);
		print_end();
	}
out:
	free(expect);
	free(key);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int cmd_mget(int argc, char **argv)
{
	unsigned char *keys = NULL, *values = NULL;
	struct hmap_info info;
	__s32 *status = NULL;
	int i = 1, fd = -1, ret;
	__u32 n = 0, max, k;

	ret = open_map(argc, argv, &i, HMAP_F_RDONLY, &fd);
	if (ret)
		goto out;
	ret = hmap_info(fd, &info);
	if (ret) {
		ret = fail(-ret, "info");
		goto out;
	}
	ret = check_fmts(&info, true, true);
	if (ret)
		goto out;
	max = (argc - i) / 2 + 1;
	keys = calloc(max, info.key_size);
	values = calloc(max, info.value_size);
	status = calloc(max, sizeof(*status));
	if (!keys || !values || !status) {
		ret = fail(ENOMEM, "alloc");
		goto out;
	}
	while (i < argc) {
		if (strcmp(argv[i], "key")) {
			ret = bad_usage("expected 'key DATA', not '%s'", argv[i]);
			goto out;
		}
		i++;
		ret = parse_data(argc, argv, &i, keys + (size_t)n * info.key_size,
				 info.key_size, "keys");
		if (ret)
			goto out;
		n++;
	}
	if (!n) {
		ret = bad_usage("expected 'key DATA'");
		goto out;
	}
	k = n;
	attempt(HMAP_CMD_LOOKUP_MULTI, 0);
	ret = hmap_lookup_multi(fd, keys, values, status, &k);
	if (ret) {
		ret = fail(-ret, "mget");
		goto out;
	}
	if (json)
		putchar('[');
	for (k = 0; k < n; k++) {
		const unsigned char *kp = keys + (size_t)k * info.key_size;

		if (json && k)
			putchar(',');
		if (!status[k]) {
			print_entry(kp, info.key_size,
				    values + (size_t)k * info.value_size,
				    info.value_size, "value");
		} else if (json) {
			printf("{\"key\":");
			print_data(kp, info.key_size, key_fmt);
			printf(",\"error\":\"%s\"}", strerrorname_np(-status[k]));
		} else {
			printf("key: ");
			print_data(kp, info.key_size, key_fmt);
			printf("  %s", strerrorname_np(-status[k]));
		}
		if (!json)
			putchar('\n');
	}
	if (json)
		printf("]\n");
out:
	free(keys);
	free(values);
	free(status);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int cmd_getnext(int argc, char **argv)
{
	struct hmap_info info;
	unsigned char *key = NULL, *next;
	int i = 1, fd = -1, ret;
	bool have_key;

	/* MAP is two words: anything after it is "key DATA". */
	have_key = argc > 3;
	ret = map_and_key(argc, argv, &i, HMAP_F_RDONLY, &fd, &info, &key, &next,
			  true);
	if (!ret)
		ret = check_fmts(&info, true, false);
	if (ret)
		goto out;
	if (i != argc) {
		ret = bad_usage("unexpected '%s'", argv[i]);
		goto out;
	}
	attempt(HMAP_CMD_GET_NEXT_KEY, 0);
	ret = hmap_get_next_key(fd, have_key ? key : NULL, next);
	if (ret) {
		ret = fail(-ret, "getnext");
		goto out;
	}
	if (have_key) {
		print_entry(key, info.key_size, next, info.key_size, "next_key");
	} else if (json) {
		printf("{\"next_key\":");
		print_data(next, info.key_size, key_fmt);
		putchar('}');
	} else {
		printf("next_key: ");
		print_data(next, info.key_size, key_fmt);
	}
	putchar('\n');
out:
	free(key);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Entries fetched per LOOKUP_BATCH by dump. */
#define DUMP_BATCH 256

/*
 * hmap_mapped_bucket() calls dump mapped makes on one chain that writers
 * keep changing, each of HMAP_MAPPED_TRIES walks, before it gives up:
 * with the pauses between them, about 55 ms.
 */
#define DUMP_CHAIN_CALLS 64

/* Waits a little for the writers of a chain: 2 us, doubling, up to 1 ms. */
static void dump_backoff(int calls)
{
	struct timespec ts = {
		.tv_nsec = (calls < 10 ? 1L << calls : 1000L) * 1000,
	};

	nanosleep(&ts, NULL);
}

/* dump ... mapped: every chain of the image, each from one walk. */
static int dump_mapped(int fd, const struct hmap_info *info)
{
	unsigned char *keys = NULL, *values = NULL;
	struct hmap_mapping *m = NULL;
	__u32 b, buckets, room, got, j;
	int ret, calls, n = 0;
	char msg[256];

	ret = map_image(fd, &m);
	if (ret)
		return ret;
	buckets = hmap_mapped_buckets(m);
	/* No chain holds more: a walk that met more started again. */
	room = hmap_mapped_chain_max(m);
	keys = calloc(room, info->key_size);
	values = calloc(room, info->value_size);
	if (!keys || !values) {
		ret = fail(ENOMEM, "alloc");
		goto out;
	}
	if (json)
		putchar('[');
	for (b = 0; b < buckets; b++) {
		for (calls = 1;; calls++) {
			ret = hmap_mapped_bucket(m, b, keys, values, NULL, room,
						 &got);
			if (ret != -EAGAIN || calls == DUMP_CHAIN_CALLS)
				break;
			dump_backoff(calls);
		}
		if (ret) {
			/* What was printed stays valid JSON; the error follows. */
			if (json)
				printf("]\n");
			if (ret != -EAGAIN) {
				ret = fail(-ret, "dump");
				goto out;
			}
			snprintf(msg, sizeof(msg),
				 "dump: EAGAIN: writers kept changing chain %u through %d walks; try again",
				 b, DUMP_CHAIN_CALLS * HMAP_MAPPED_TRIES);
			ret = fail_msg(EAGAIN, msg);
			goto out;
		}
		for (j = 0; j < got; j++, n++) {
			if (json && n)
				putchar(',');
			print_entry_open(keys + (size_t)j * info->key_size,
					 info->key_size,
					 values + (size_t)j * info->value_size,
					 info->value_size, "value");
			if (json)
				printf(",\"mapped\":true}");
			else
				putchar('\n');
		}
	}
	print_dump_end(n, " (mapped)");
	ret = 0;
out:
	free(keys);
	free(values);
	hmap_munmap(m);
	return ret;
}

static int cmd_dump(int argc, char **argv)
{
	struct hmap_info info;
	unsigned char *buf = NULL, *cur, *keys, *values;
	int i = 1, fd = -1, ret, n = 0;
	bool started = false, mapped = false;
	__u32 got, j;

	ret = open_map(argc, argv, &i, HMAP_F_RDONLY, &fd);
	if (ret)
		return ret;
	if (i < argc && !strcmp(argv[i], "mapped")) {
		mapped = true;
		i++;
	}
	if (i != argc) {
		ret = bad_usage("unexpected '%s'", argv[i]);
		goto out;
	}
	ret = hmap_info(fd, &info);
	if (ret) {
		ret = fail(-ret, "info");
		goto out;
	}
	ret = check_fmts(&info, true, true);
	if (ret)
		goto out;
	if (mapped) {
		ret = dump_mapped(fd, &info);
		goto out;
	}
	buf = calloc(1, (size_t)info.key_size * (DUMP_BATCH + 1) +
		     (size_t)info.value_size * DUMP_BATCH);
	if (!buf) {
		ret = fail(ENOMEM, "alloc");
		goto out;
	}
	cur = buf;
	keys = cur + info.key_size;
	values = keys + (size_t)info.key_size * DUMP_BATCH;
	if (json)
		putchar('[');
	attempt(HMAP_CMD_LOOKUP_BATCH, 0);
	do {
		got = DUMP_BATCH;
		ret = hmap_lookup_batch(fd, started ? cur : NULL, cur, keys,
					values, &got);
		started = true;
		for (j = 0; j < got; j++, n++) {
			if (json && n)
				putchar(',');
			print_entry(keys + (size_t)j * info.key_size, info.key_size,
				    values + (size_t)j * info.value_size,
				    info.value_size, "value");
			if (!json)
				putchar('\n');
		}
	} while (!ret);
	if (ret != -ENOENT) {
		/* What was printed stays valid JSON; the error follows. */
		if (json)
			printf("]\n");
		ret = fail(-ret, "dump");
		goto out;
	}
	print_dump_end(n, "");
	ret = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int cmd_clear(int argc, char **argv)
{
	int i = 1, fd, ret;

	ret = open_map(argc, argv, &i, 0, &fd);
	if (ret)
		return ret;
	if (i != argc) {
		close(fd);
		return bad_usage("unexpected '%s'", argv[i]);
	}
	attempt(HMAP_CMD_CLEAR, 0);
	ret = hmap_clear(fd);
	close(fd);
	return quiet_result(ret, "clear");
}

/* Set by SIGINT and SIGTERM: watch ends, exit 0. */
static atomic_int stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *event_op_name(__u16 op)
{
	switch (op) {
	case HMAP_EVENT_UPDATE:
		return "update";
	case HMAP_EVENT_DELETE:
		return "delete";
	case HMAP_EVENT_CLEAR:
		return "clear";
	case HMAP_EVENT_EVICT:
		return "evict";
	case HMAP_EVENT_EXPIRE:
		return "expire";
	case HMAP_EVENT_OVERFLOW:
		return "overflow";
	case HMAP_EVENT_REPLACED:
		return "replaced";
	}
	return NULL;
}

/* Starts a field of a change record: `,"NAME":` in JSON, `  NAME: ` in text. */
static void event_field(const char *name)
{
	printf(json ? ",\"%s\":" : "  %s: ", name);
}

/*
 * One change record, one line: text, or a JSON object (JSON Lines). Returns
 * fflush()'s result.
 */
static int print_event(const struct hmap_event *ev)
{
	const char *name = event_op_name(ev->op);
	bool has_version = ev->op == HMAP_EVENT_UPDATE ||
			   ev->op == HMAP_EVENT_DELETE ||
			   ev->op == HMAP_EVENT_EVICT ||
			   ev->op == HMAP_EVENT_EXPIRE;

	printf(json ? "{\"seq\":%llu,\"op\":" : "seq: %llu  ",
	       (unsigned long long)ev->seq);
	if (name)
		printf(json ? "\"%s\"" : "%s", name);
	else
		printf(json ? "%u" : "op %u", ev->op);
	if (ev->key_size) {
		event_field("key");
		print_data(hmap_event_key(ev), ev->key_size, key_fmt);
	}
	if (ev->value_size) {
		event_field("value");
		print_data(hmap_event_value(ev), ev->value_size, value_fmt);
	}
	if (has_version) {
		event_field("version");
		printf("%llu", (unsigned long long)ev->version);
	}
	if (ev->op == HMAP_EVENT_OVERFLOW) {
		event_field("lost");
		printf("%llu", (unsigned long long)ev->lost);
	}
	if (ev->op == HMAP_EVENT_REPLACED) {
		event_field("map_id");
		printf("%llu", (unsigned long long)ev->version);
	}
	if (json)
		putchar('}');
	putchar('\n');
	/* Each line as it comes, for whatever reads the pipe. */
	return fflush(stdout);
}

/* Bytes per read() of watch: many records, and always the largest one. */
#define WATCH_READ_BYTES (64 * 1024)

static int cmd_watch(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop };
	unsigned long long count = 0, buf_bytes = 0;
	__u32 flags = HMAP_WATCH_NONBLOCK;
	sigset_t block, orig;
	struct hmap_info info;
	int i = 1, fd, wfd = -1, ret;
	unsigned long long printed = 0;
	size_t len, used;
	void *buf = NULL;

	ret = open_map(argc, argv, &i, HMAP_F_RDONLY, &fd);
	if (ret)
		return ret;
	while (i < argc) {
		if (!strcmp(argv[i], "values")) {
			flags |= HMAP_WATCH_VALUES;
			i++;
		} else if (!strcmp(argv[i], "count") && i + 1 < argc) {
			if (!parse_u64(argv[i + 1], UINT64_MAX, &count) || !count) {
				ret = bad_usage("count needs a number from 1");
				goto out;
			}
			i += 2;
		} else if (!strcmp(argv[i], "buf") && i + 1 < argc) {
			if (!parse_u64(argv[i + 1], UINT32_MAX, &buf_bytes)) {
				ret = bad_usage("buf needs a number of bytes");
				goto out;
			}
			i += 2;
		} else {
			ret = bad_usage("unexpected '%s'", argv[i]);
			goto out;
		}
	}
	ret = hmap_info(fd, &info);
	if (ret) {
		ret = fail(-ret, "info");
		goto out;
	}
	ret = check_fmts(&info, true, flags & HMAP_WATCH_VALUES);
	if (ret)
		goto out;
	/* The largest record: header, key and value, padded to 8. */
	len = (sizeof(struct hmap_event) + info.key_size + info.value_size +
	       7) & ~(size_t)7;
	if (len < WATCH_READ_BYTES)
		len = WATCH_READ_BYTES;
	buf = malloc(len);
	if (!buf) {
		ret = fail(ENOMEM, "alloc");
		goto out;
	}

	/* No SA_RESTART: a signal also ends a write() stuck on a full pipe. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);

	attempt(HMAP_CMD_WATCH, flags);
	wfd = hmap_watch(fd, flags, buf_bytes, NULL);
	if (wfd < 0) {
		ret = fail(-wfd, "watch");
		goto out;
	}
	while (!stop && (!count || printed < count)) {
		const struct hmap_event *ev = NULL;
		ssize_t n;

		n = hmap_watch_read(wfd, buf, len);
		if (n == -EAGAIN) {
			struct pollfd pfd = { .fd = wfd, .events = POLLIN };

			/*
			 * The signals are let in only inside ppoll(), so that
			 * one arriving after the check of stop still ends it.
			 */
			sigprocmask(SIG_BLOCK, &block, &orig);
			ret = !stop && ppoll(&pfd, 1, NULL, &orig) < 0 &&
			      errno != EINTR ? errno : 0;
			sigprocmask(SIG_SETMASK, &orig, NULL);
			if (ret) {
				ret = fail(ret, "poll");
				goto out;
			}
			continue;
		}
		if (n == -EINTR)
			continue;
		if (!n)
			break;
		if (n < 0) {
			ret = fail(-n, "read");
			goto out;
		}
		for (used = 0; used < (size_t)n && !stop &&
		     (!count || printed < count); used += ev->len) {
			ev = hmap_event_next(buf, n, ev);
			/* print_data() has room for sizes the map allows. */
			if (!ev || ev->key_size > info.key_size ||
			    ev->value_size > info.value_size) {
				ret = fail(EBADMSG, "read");
				goto out;
			}
			if (print_event(ev) && !stop) {
				ret = fail(errno, "write");
				goto out;
			}
			printed++;
		}
	}
	ret = 0;
out:
	free(buf);
	if (wfd >= 0)
		close(wfd);
	close(fd);
	return ret;
}

static int cmd_publish(int argc, char **argv)
{
	bool have_owner = false;
	const char *name;
	mode_t mode = 0600;
	int i = 1, fd, ret;
	uid_t uid = 0;
	gid_t gid = 0;

	ret = open_map(argc, argv, &i, 0, &fd);
	if (ret)
		return ret;
	if (i >= argc) {
		close(fd);
		return bad_usage("missing NAME");
	}
	name = argv[i++];
	for (; i < argc; i += 2) {
		if (!strcmp(argv[i], "mode") && i + 1 < argc) {
			if (parse_mode(argv[i + 1], &mode))
				continue;
			close(fd);
			return bad_usage("bad mode '%s'", argv[i + 1]);
		}
		if (!strcmp(argv[i], "owner") && i + 1 < argc) {
			have_owner = parse_owner(argv[i + 1], &uid, &gid);
			if (have_owner)
				continue;
			close(fd);
			return bad_usage("owner '%s' is not UID:GID", argv[i + 1]);
		}
		close(fd);
		return bad_usage("expected 'mode MODE' or 'owner UID:GID', not '%s'",
				 argv[i]);
	}
	attempt(HMAP_CMD_PUBLISH, have_owner ? HMAP_PUBLISH_OWNER : 0);
	if (have_owner)
		ret = hmap_publish_owner(fd, name, mode, uid, gid);
	else
		ret = hmap_publish(fd, name, mode);
	close(fd);
	return quiet_result(ret, "publish");
}

static int cmd_unpublish(int argc, char **argv)
{
	if (argc != 2)
		return bad_usage("expected NAME");
	attempt(HMAP_CMD_UNPUBLISH, 0);
	return quiet_result(hmap_unpublish(argv[1]), "unpublish");
}

/*
 * Save files. All numbers are little-endian. A 128-byte header:
 *
 *   0  magic "HMAPSAVE"          48  entry count (u64)
 *   8  format version (1)        56  label, 32 bytes, NUL-padded
 *  12  header size (128)         88  published name, 32 bytes, or empty
 *  16  key size                 120  0 (reserved)
 *  20  value size               124  CRC-32 of bytes 0 to 123
 *  24  max_entries
 *  28  map flags (HMAP_F_PREALLOC, HMAP_F_LRU, HMAP_F_TTL)
 *  32  capacity hint
 *  36  owner, 40 group, 44 mode of the published name
 *
 * then the entries, each a key then a value of exactly the map's sizes, in
 * the map's iteration order, then a 24-byte trailer: magic "HMAPTAIL", the
 * entry count again (u64), the CRC-32 of all the entry bytes, and the
 * CRC-32 of the trailer's first 20 bytes. CRC-32 is zlib's (IEEE 802.3).
 */
#define SAVE_MAGIC		"HMAPSAVE"
#define SAVE_TAIL_MAGIC		"HMAPTAIL"
#define SAVE_VERSION		1
#define SAVE_HDR_SIZE		128
#define SAVE_TAIL_SIZE		24
#define SAVE_MAP_FLAGS		(HMAP_F_PREALLOC | HMAP_F_LRU | HMAP_F_TTL | \
				 HMAP_F_MMAP)
/* Entries per LOOKUP_BATCH, UPDATE_BATCH and file read or write. */
#define SAVE_CHUNK_ENTRIES	4096
#define SAVE_CHUNK_BYTES	(1024 * 1024)

struct save_hdr {
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
	__u32 capacity_hint;
	__u32 pub_uid;
	__u32 pub_gid;
	__u32 pub_mode;
	__u64 count;
	char name[HMAP_NAME_LEN];
	char pub_name[HMAP_NAME_LEN];
};

static __u32 crc_table[256];

/* zlib's crc32(): chain calls, starting from 0. */
static __u32 crc32_update(__u32 crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	__u32 c;
	int n, k;

	if (!crc_table[1]) {
		for (n = 0; n < 256; n++) {
			for (c = n, k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
			crc_table[n] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put_le32(unsigned char *p, __u32 v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put_le64(unsigned char *p, __u64 v)
{
	put_le32(p, v);
	put_le32(p + 4, v >> 32);
}

static __u32 get_le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (__u32)p[3] << 24;
}

static __u64 get_le64(const unsigned char *p)
{
	return get_le32(p) | (__u64)get_le32(p + 4) << 32;
}

static void encode_hdr(const struct save_hdr *h, unsigned char *b)
{
	memset(b, 0, SAVE_HDR_SIZE);
	memcpy(b, SAVE_MAGIC, 8);
	put_le32(b + 8, SAVE_VERSION);
	put_le32(b + 12, SAVE_HDR_SIZE);
	put_le32(b + 16, h->key_size);
	put_le32(b + 20, h->value_size);
	put_le32(b + 24, h->max_entries);
	put_le32(b + 28, h->map_flags);
	put_le32(b + 32, h->capacity_hint);
	put_le32(b + 36, h->pub_uid);
	put_le32(b + 40, h->pub_gid);
	put_le32(b + 44, h->pub_mode);
	put_le64(b + 48, h->count);
	memcpy(b + 56, h->name, HMAP_NAME_LEN);
	memcpy(b + 88, h->pub_name, HMAP_NAME_LEN);
	put_le32(b + 124, crc32_update(0, b, 124));
}

static void encode_tail(__u64 count, __u32 data_crc, unsigned char *b)
{
	memcpy(b, SAVE_TAIL_MAGIC, 8);
	put_le64(b + 8, count);
	put_le32(b + 16, data_crc);
	put_le32(b + 20, crc32_update(0, b, 20));
}

/*
 * A name buffer as the kernel takes it: 1 to 31 of [A-Za-z0-9_.-] (or
 * empty if @may_be_empty), NUL-terminated, zero after the NUL.
 */
static bool valid_name(const char *buf, bool may_be_empty)
{
	size_t n = strnlen(buf, HMAP_NAME_LEN), i;

	if (n == HMAP_NAME_LEN || (!n && !may_be_empty))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)buf[i]) && !strchr("_.-", buf[i]))
			return false;
	for (; i < HMAP_NAME_LEN; i++)
		if (buf[i])
			return false;
	return true;
}

/* A name given on the command line, as valid_name() checks it. */
static bool valid_arg_name(const char *s)
{
	char buf[HMAP_NAME_LEN] = "";

	if (strlen(s) >= HMAP_NAME_LEN)
		return false;
	strncpy(buf, s, HMAP_NAME_LEN - 1);
	return valid_name(buf, false);
}

/*
 * A failed save or load: "hmapctl VERB: FILE: MESSAGE[: ERRNO: text]", a
 * JSON object with -j, exit 1.
 */
static int fail_file(const char *file, int err, const char *fmt, ...)
{
	const char *name = err ? strerrorname_np(err) : NULL, *why;
	char msg[1024];
	va_list ap;
	size_t n;

	n = snprintf(msg, sizeof(msg), "%s: ", file);
	if (n < sizeof(msg)) {
		va_start(ap, fmt);
		n += vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
		va_end(ap);
	}
	if (err && n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s: %s%s", name ? name : "?",
			 strerror(err), access(HMAP_DEV_PATH, F_OK) ?
			 " (no " HMAP_DEV_PATH ": is the hmap module loaded?)" : "");
	msg_prefix();
	fprintf(stderr, "%s\n", msg);
	why = explain(err);
	if (json) {
		printf("{\"file\":");
		json_str(file);
		printf(",\"error\":");
		json_str(msg);
		if (err) {
			printf(",\"errno\":");
			json_str(name ? name : "?");
		}
		if (why) {
			printf(",\"unsupported\":");
			json_str(why);
		}
		printf("}\n");
	}
	return 1;
}

/* write(2) all of @buf at @off (or the file position if @off < 0). */
static int write_all(int fd, const void *buf, size_t len, off_t off)
{
	const unsigned char *p = buf;
	ssize_t n;

	while (len) {
		n = off < 0 ? write(fd, p, len) : pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

/* pread(2) until @len bytes or the end: the bytes read, or -errno. */
static ssize_t read_at(int fd, void *buf, size_t len, off_t off)
{
	unsigned char *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, p + got, len - got, off + got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		got += n;
	}
	return got;
}

/* Entries per chunk: at most 4096 and about 1 MiB, at least one. */
static __u32 chunk_entries(__u32 key_size, __u32 value_size)
{
	__u32 n = SAVE_CHUNK_BYTES / (key_size + value_size);

	return n < 1 ? 1 : n > SAVE_CHUNK_ENTRIES ? SAVE_CHUNK_ENTRIES : n;
}

/* fsync()s the directory holding @path, so that a rename in it lasts. */
static int sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, ret = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	if (fsync(fd) && errno != EINVAL)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Whether @st is only its owner's to change, and the owner the caller or
 * root: nobody else may then put a file in a directory for root to load,
 * or swap one saved there.
 */
static bool only_ours(const struct stat *st)
{
	return (st->st_uid == geteuid() || !st->st_uid) &&
	       !(st->st_mode & 0022);
}

/* The DIR of save --all and load --all, as only_ours(). Returns 0 or 1. */
static int check_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st))
		return fail_file(dir, errno, "stat");
	if (!S_ISDIR(st.st_mode))
		return fail_file(dir, ENOTDIR, "stat");
	if (!only_ours(&st))
		return fail_file(dir, 0,
				 "owned by %u, mode %o: others than the caller or root may write it",
				 (unsigned int)st.st_uid,
				 (unsigned int)(st.st_mode & 07777));
	return 0;
}

/* Prints what save or load did: text, or one JSON object. */
static void print_saved(const char *what, const char *file, const char *name,
			__u64 count, __u32 id, int replaced)
{
	if (json) {
		printf("{\"file\":");
		json_str(file);
		printf(",\"name\":");
		json_str(name);
		printf(",\"entries\":%llu,\"map_id\":%u", (unsigned long long)count,
		       id);
		if (replaced >= 0)
			printf(",\"replaced\":%s", replaced ? "true" : "false");
		printf("}\n");
	} else if (replaced < 0) {
		printf("%s: %s %llu entr%s of map %u%s%s\n", file, what,
		       (unsigned long long)count, count == 1 ? "y" : "ies", id,
		       name[0] ? ", published as " : "", name);
	} else {
		printf("%s: %s %llu entr%s into map %u, %s %s\n", file, what,
		       (unsigned long long)count, count == 1 ? "y" : "ies", id,
		       replaced ? "which replaced" : "published as", name);
	}
	fflush(stdout);
}

/*
 * Writes the map behind @fd to @file, through @file.tmp, fsync() and
 * rename(). Returns 0, or 1 once the failure is reported (and the
 * temporary file removed).
 */
static int save_one(int fd, const char *file, const struct hmap_info *info)
{
	__u32 ks = info->key_size, vs = info->value_size, per, got, j;
	unsigned char hdr[SAVE_HDR_SIZE], tail[SAVE_TAIL_SIZE];
	unsigned char *buf = NULL, *cur, *keys, *values, *out, *p;
	struct save_hdr h = {
		.key_size = ks,
		.value_size = vs,
		.max_entries = info->max_entries,
		.map_flags = info->map_flags & SAVE_MAP_FLAGS,
		.capacity_hint = info->capacity_hint,
	};
	size_t es = (size_t)ks + vs;
	bool started = false, end;
	char *tmp = NULL;
	__u32 crc = 0;
	int tfd = -1, ret;

	memcpy(h.name, info->name, HMAP_NAME_LEN);
	if (info->pub_name[0]) {
		memcpy(h.pub_name, info->pub_name, HMAP_NAME_LEN);
		h.pub_uid = info->pub_uid;
		h.pub_gid = info->pub_gid;
		h.pub_mode = info->pub_mode;
	}
	per = chunk_entries(ks, vs);
	buf = malloc(ks + (size_t)per * es * 2);
	if (asprintf(&tmp, "%s.tmp", file) < 0)
		tmp = NULL;
	if (!buf || !tmp) {
		ret = fail_file(file, ENOMEM, "alloc");
		goto out;
	}
	cur = buf;
	keys = cur + ks;
	values = keys + (size_t)per * ks;
	out = values + (size_t)per * vs;

	/* A leftover of a save that died; O_EXCL then never follows a link. */
	unlink(tmp);
	tfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (tfd < 0) {
		ret = fail_file(tmp, errno, "create");
		goto out;
	}
	/* The count is known at the end: the header is written again then. */
	encode_hdr(&h, hdr);
	ret = write_all(tfd, hdr, sizeof(hdr), -1);
	if (ret) {
		ret = fail_file(tmp, -ret, "write");
		goto out;
	}
	attempt(HMAP_CMD_LOOKUP_BATCH, 0);
	for (end = false; !end;) {
		got = per;
		ret = hmap_lookup_batch(fd, started ? cur : NULL, cur, keys,
					values, &got);
		if (ret && ret != -ENOENT && ret != -EINTR) {
			ret = fail_file(file, -ret, "read map %u", info->id);
			goto out;
		}
		if (got)
			started = true;
		for (j = 0, p = out; j < got; j++) {
			memcpy(p, keys + (size_t)j * ks, ks);
			memcpy(p + ks, values + (size_t)j * vs, vs);
			p += es;
		}
		crc = crc32_update(crc, out, (size_t)got * es);
		h.count += got;
		end = ret == -ENOENT;
		ret = write_all(tfd, out, (size_t)got * es, -1);
		if (ret) {
			ret = fail_file(tmp, -ret, "write");
			goto out;
		}
	}
	encode_tail(h.count, crc, tail);
	encode_hdr(&h, hdr);
	ret = write_all(tfd, tail, sizeof(tail), -1);
	if (!ret)
		ret = write_all(tfd, hdr, sizeof(hdr), 0);
	if (!ret && fsync(tfd))
		ret = -errno;
	if (ret) {
		ret = fail_file(tmp, -ret, "write");
		goto out;
	}
	if (close(tfd)) {
		tfd = -1;
		ret = fail_file(tmp, errno, "close");
		goto out;
	}
	tfd = -1;
	if (rename(tmp, file)) {
		ret = fail_file(file, errno, "rename %s to it", tmp);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	ret = sync_dir_of(file);
	if (ret) {
		ret = fail_file(file, -ret, "fsync its directory");
		goto out;
	}
	print_saved("saved", file, info->pub_name, h.count, info->id, -1);
out:
	if (tfd >= 0)
		close(tfd);
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(buf);
	return ret;
}

/* Every published map this user may open by id, to DIR/NAME.hmap. */
static int save_all(const char *dir)
{
	struct hmap_info info;
	int ret, fd, failed = 0;
	char *path;
	__u32 id = 0;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return fail_file(dir, errno, "mkdir");
	if (check_dir(dir))
		return 1;
	while (!(ret = hmap_get_next_id(id, &id))) {
		fd = hmap_open_by_id(id, HMAP_F_RDONLY);
		/* Gone since, or not this user's. */
		if (fd == -EPERM || fd == -ENOENT)
			continue;
		if (fd < 0) {
			failed |= fail(-fd, "open");
			continue;
		}
		ret = hmap_info(fd, &info);
		if (ret) {
			close(fd);
			failed |= fail(-ret, "info");
			continue;
		}
		if (!info.pub_name[0]) {
			close(fd);
			continue;
		}
		/* Names have no '/': the file is always in DIR. Checked. */
		if (strnlen(info.pub_name, HMAP_NAME_LEN) == HMAP_NAME_LEN ||
		    !valid_arg_name(info.pub_name)) {
			close(fd);
			failed |= fail(EINVAL, "bad published name");
			continue;
		}
		if (asprintf(&path, "%s/%s.hmap", dir, info.pub_name) < 0) {
			close(fd);
			return fail(ENOMEM, "alloc");
		}
		failed |= save_one(fd, path, &info);
		free(path);
		close(fd);
	}
	if (ret != -ENOENT)
		failed |= fail(-ret, "list");
	return failed;
}

static int cmd_save(int argc, char **argv)
{
	struct hmap_info info;
	int i = 1, fd, ret;

	if (argc > 1 && !strcmp(argv[1], "--all")) {
		if (argc != 3)
			return bad_usage("expected 'save --all DIR'");
		return save_all(argv[2]);
	}
	ret = open_map(argc, argv, &i, HMAP_F_RDONLY, &fd);
	if (ret)
		return ret;
	if (i + 1 != argc) {
		close(fd);
		if (i < argc)
			return bad_usage("unexpected '%s'", argv[i + 1]);
		return bad_usage("missing FILE");
	}
	ret = hmap_info(fd, &info);
	if (ret) {
		close(fd);
		return fail(-ret, "info");
	}
	ret = save_one(fd, argv[i], &info);
	close(fd);
	return ret;
}

/*
 * Checks a save file from end to end before anything is made of it: the
 * header, the length, the trailer and the CRC of every entry byte. Returns
 * 0 with @h filled in and *@data_crc the entries' CRC, or 1 once the
 * problem is reported.
 */
static int verify_file(int ffd, const char *file, struct save_hdr *h,
		       __u32 *data_crc)
{
	unsigned char hb[SAVE_HDR_SIZE], tb[SAVE_TAIL_SIZE], *buf;
	__u64 size, want, data, off, left;
	size_t es, len;
	struct stat st;
	__u32 v, crc = 0;
	ssize_t n;

	if (fstat(ffd, &st))
		return fail_file(file, errno, "stat");
	if (!S_ISREG(st.st_mode))
		return fail_file(file, 0, "not a regular file");
	size = st.st_size;
	n = read_at(ffd, hb, sizeof(hb), 0);
	if (n < 0)
		return fail_file(file, -n, "read");
	if (n < 8 || memcmp(hb, SAVE_MAGIC, 8))
		return fail_file(file, 0, "not an hmap save file (no %s magic)",
				 SAVE_MAGIC);
	if (n < 16)
		return fail_file(file, 0, "truncated: %zd bytes", n);
	v = get_le32(hb + 8);
	if (v != SAVE_VERSION)
		return fail_file(file, 0, "format version %u: this hmapctl reads version %d",
				 v, SAVE_VERSION);
	v = get_le32(hb + 12);
	if (v != SAVE_HDR_SIZE)
		return fail_file(file, 0, "header size %u: version %d has %d", v,
				 SAVE_VERSION, SAVE_HDR_SIZE);
	if (n < SAVE_HDR_SIZE)
		return fail_file(file, 0, "truncated: the header has %zd of %d bytes",
				 n, SAVE_HDR_SIZE);
	/* Grown since fstat(): size - SAVE_HDR_SIZE below must not wrap. */
	if (size < SAVE_HDR_SIZE)
		return fail_file(file, 0, "changed while it was read");
	if (crc32_update(0, hb, 124) != get_le32(hb + 124))
		return fail_file(file, 0, "header checksum mismatch");
	h->key_size = get_le32(hb + 16);
	h->value_size = get_le32(hb + 20);
	h->max_entries = get_le32(hb + 24);
	h->map_flags = get_le32(hb + 28);
	h->capacity_hint = get_le32(hb + 32);
	h->pub_uid = get_le32(hb + 36);
	h->pub_gid = get_le32(hb + 40);
	h->pub_mode = get_le32(hb + 44);
	h->count = get_le64(hb + 48);
	memcpy(h->name, hb + 56, HMAP_NAME_LEN);
	memcpy(h->pub_name, hb + 88, HMAP_NAME_LEN);
	if (get_le32(hb + 120))
		return fail_file(file, 0, "reserved header bytes are not zero");
	if (!h->key_size || h->key_size > HMAP_MAX_KEY_SIZE)
		return fail_file(file, 0, "key size %u out of range (1 to %d)",
				 h->key_size, HMAP_MAX_KEY_SIZE);
	if (!h->value_size || h->value_size > HMAP_MAX_VALUE_SIZE)
		return fail_file(file, 0, "value size %u out of range (1 to %d)",
				 h->value_size, HMAP_MAX_VALUE_SIZE);
	if (!h->max_entries || h->max_entries > HMAP_MAX_ENTRIES)
		return fail_file(file, 0, "max_entries %u out of range (1 to %lu)",
				 h->max_entries, (unsigned long)HMAP_MAX_ENTRIES);
	if (h->capacity_hint > h->max_entries)
		return fail_file(file, 0, "capacity hint %u above max_entries %u",
				 h->capacity_hint, h->max_entries);
	if (h->map_flags & ~SAVE_MAP_FLAGS)
		return fail_file(file, 0, "unknown map flags 0x%x", h->map_flags);
	if (!valid_name(h->name, true))
		return fail_file(file, 0, "bad label");
	if (!valid_name(h->pub_name, true))
		return fail_file(file, 0, "bad published name");
	if (h->pub_mode & ~0666)
		return fail_file(file, 0, "bad mode %o", h->pub_mode);
	es = (size_t)h->key_size + h->value_size;
	/*
	 * An LRU map may hold a few more than max_entries for a moment, and
	 * evicts down to it as the entries are loaded; other maps never do.
	 */
	if (h->count > h->max_entries && !(h->map_flags & HMAP_F_LRU))
		return fail_file(file, 0, "%llu entries, more than max_entries %u",
				 (unsigned long long)h->count, h->max_entries);
	if (h->count > (UINT64_MAX - SAVE_HDR_SIZE - SAVE_TAIL_SIZE) / es)
		return fail_file(file, 0, "%llu entries: too many",
				 (unsigned long long)h->count);
	data = h->count * es;
	want = SAVE_HDR_SIZE + data + SAVE_TAIL_SIZE;
	if (size < want && size - SAVE_HDR_SIZE < data)
		return fail_file(file, 0, "truncated: %llu entries announced, %llu present",
				 (unsigned long long)h->count,
				 (unsigned long long)((size - SAVE_HDR_SIZE) / es));
	if (size < want)
		return fail_file(file, 0, "truncated: the trailer has %llu of %d bytes",
				 (unsigned long long)(size - SAVE_HDR_SIZE - data),
				 SAVE_TAIL_SIZE);
	if (size > want)
		return fail_file(file, 0, "%llu bytes of garbage after the trailer",
				 (unsigned long long)(size - want));
	n = read_at(ffd, tb, sizeof(tb), SAVE_HDR_SIZE + data);
	if (n < 0)
		return fail_file(file, -n, "read");
	if (n != sizeof(tb))
		return fail_file(file, 0, "truncated while it was read");
	if (memcmp(tb, SAVE_TAIL_MAGIC, 8))
		return fail_file(file, 0, "no trailer (no %s magic after the entries)",
				 SAVE_TAIL_MAGIC);
	if (crc32_update(0, tb, 20) != get_le32(tb + 20))
		return fail_file(file, 0, "trailer checksum mismatch");
	if (get_le64(tb + 8) != h->count)
		return fail_file(file, 0, "the trailer counts %llu entries, the header %llu",
				 (unsigned long long)get_le64(tb + 8),
				 (unsigned long long)h->count);
	*data_crc = get_le32(tb + 16);

	len = (size_t)chunk_entries(h->key_size, h->value_size) * es;
	buf = malloc(len);
	if (!buf)
		return fail_file(file, ENOMEM, "alloc");
	for (off = SAVE_HDR_SIZE, left = data; left; off += n, left -= n) {
		n = read_at(ffd, buf, left < len ? left : len, off);
		if (n <= 0) {
			free(buf);
			if (n < 0)
				return fail_file(file, -n, "read");
			return fail_file(file, 0, "truncated while it was read");
		}
		crc = crc32_update(crc, buf, n);
	}
	free(buf);
	if (crc != *data_crc)
		return fail_file(file, 0, "entry checksum mismatch");
	return 0;
}

/*
 * Streams the entries of a verified file into a new, unpublished map with
 * UPDATE_BATCH. Returns 0, or 1 once the failure is reported.
 */
static int fill_map(int ffd, int mfd, const char *file,
		    const struct save_hdr *h, __u32 data_crc)
{
	__u32 ks = h->key_size, vs = h->value_size, per, n, j, done, cnt;
	size_t es = (size_t)ks + vs;
	unsigned char *raw, *keys, *values;
	__u64 loaded = 0;
	__u32 crc = 0;
	ssize_t r;
	int ret = 0;

	per = chunk_entries(ks, vs);
	raw = malloc((size_t)per * es * 2);
	if (!raw)
		return fail_file(file, ENOMEM, "alloc");
	keys = raw + (size_t)per * es;
	values = keys + (size_t)per * ks;
	while (loaded < h->count) {
		n = h->count - loaded < per ? h->count - loaded : per;
		r = read_at(ffd, raw, (size_t)n * es,
			    SAVE_HDR_SIZE + loaded * es);
		if (r < 0) {
			ret = fail_file(file, -r, "read");
			goto out;
		}
		if ((size_t)r != (size_t)n * es) {
			ret = fail_file(file, 0, "truncated while it was loaded");
			goto out;
		}
		crc = crc32_update(crc, raw, r);
		for (j = 0; j < n; j++) {
			memcpy(keys + (size_t)j * ks, raw + j * es, ks);
			memcpy(values + (size_t)j * vs, raw + j * es + ks, vs);
		}
		attempt(HMAP_CMD_UPDATE_BATCH, 0);
		for (done = 0; done < n; done += cnt) {
			cnt = n - done;
			ret = hmap_update_batch(mfd, keys + (size_t)done * ks,
						values + (size_t)done * vs, NULL,
						&cnt, HMAP_NOEXIST, 0);
			/* EINTR: cnt entries were written; go on. */
			if (ret == -EINTR)
				continue;
			if (ret == -EEXIST) {
				ret = fail_file(file, 0,
						"corrupt: entry %llu repeats an earlier key",
						(unsigned long long)(loaded + done + cnt));
				goto out;
			}
			if (ret) {
				ret = fail_file(file, -ret, "load entry %llu",
						(unsigned long long)(loaded + done + cnt));
				goto out;
			}
		}
		loaded += n;
	}
	if (crc != data_crc)
		ret = fail_file(file, 0, "changed while it was loaded");
out:
	free(raw);
	return ret;
}

struct load_opts {
	const char *name;	/* NULL: the saved name */
	mode_t mode;
	bool have_mode;
	bool have_owner;
	uid_t uid;
	gid_t gid;
	bool replace;
	__u32 replace_flags;	/* HMAP_PUBLISH_ANY_SIZES or 0 */
	bool all;		/* load --all: a file of DIR, see load_one() */
};

/*
 * Checks before loading what publishing would refuse for sure: a taken
 * name without replace, other sizes without any-sizes. Returns 0 or 1.
 */
static int check_name(const char *file, const char *name,
		      const struct save_hdr *h, const struct load_opts *o)
{
	struct hmap_info info;
	int fd, ret;

	fd = hmap_open_by_name(name, HMAP_F_RDONLY);
	if (fd == -EACCES && !o->replace)
		fd = -EEXIST;
	if (fd == -EEXIST)
		return fail_file(file, 0,
				 "the name %s is taken (give 'replace' to replace its map)",
				 name);
	if (fd < 0)
		return 0;
	if (!o->replace) {
		close(fd);
		return fail_file(file, 0,
				 "the name %s is taken (give 'replace' to replace its map)",
				 name);
	}
	ret = hmap_info(fd, &info);
	close(fd);
	if (!ret && !(o->replace_flags & HMAP_PUBLISH_ANY_SIZES) &&
	    (info.key_size != h->key_size || info.value_size != h->value_size))
		return fail_file(file, 0,
				 "%s has keys of %u and values of %u bytes, the file %u and %u (give 'any-sizes' to replace it all the same)",
				 name, info.key_size, info.value_size,
				 h->key_size, h->value_size);
	return 0;
}

/*
 * Publishes the loaded map: replaces the name if asked and it exists, else
 * publishes it anew. Returns 0 or a negative errno; *@replaced says which.
 */
static int publish_loaded(int mfd, const char *name, mode_t mode, uid_t uid,
			  gid_t gid, const struct load_opts *o, bool *replaced)
{
	bool owner = uid != geteuid() || gid != getegid();
	int ret = 0, tries;

	*replaced = false;
	/* A name that comes and goes meanwhile: try again, a few times. */
	for (tries = 0; tries < 3; tries++) {
		if (o->replace) {
			attempt(HMAP_CMD_PUBLISH,
				HMAP_PUBLISH_REPLACE | o->replace_flags);
			ret = hmap_replace(mfd, name, o->replace_flags);
			if (ret != -ENOENT) {
				*replaced = !ret;
				return ret;
			}
		}
		attempt(HMAP_CMD_PUBLISH, owner ? HMAP_PUBLISH_OWNER : 0);
		if (owner)
			ret = hmap_publish_owner(mfd, name, mode, uid, gid);
		else
			ret = hmap_publish(mfd, name, mode);
		if (ret != -EEXIST || !o->replace)
			return ret;
	}
	return ret;
}

/*
 * load --all runs as root, with the names, owners and modes its files say:
 * each must be a file only its owner (the caller or root) may write, and
 * DIR/NAME.hmap must hold the map saved as NAME, as save --all wrote it, so
 * that a file put there or renamed takes no other map's name. Returns 0 or
 * 1 once reported.
 */
static int check_all_file(int ffd, const char *file, const struct save_hdr *h)
{
	const char *base = strrchr(file, '/');
	size_t len;
	struct stat st;

	if (fstat(ffd, &st))
		return fail_file(file, errno, "stat");
	if (!only_ours(&st))
		return fail_file(file, 0,
				 "owned by %u, mode %o: others than the caller or root may write it",
				 (unsigned int)st.st_uid,
				 (unsigned int)(st.st_mode & 07777));
	base = base ? base + 1 : file;
	/* NAME.hmap, as hmap_file_filter() took it. No name: load_one() says. */
	len = strlen(base);
	len = len > 5 ? len - 5 : 0;
	if (h->pub_name[0] &&
	    (len != strlen(h->pub_name) || strncmp(base, h->pub_name, len)))
		return fail_file(file, 0, "saved as '%s', not as the file's name",
				 h->pub_name);
	return 0;
}

/* Loads one save file as described at "hmapctl help load"; 0 or 1. */
static int load_one(const char *file, const struct load_opts *o)
{
	struct hmap_create_opts co = { .sz = sizeof(co) };
	int ffd, mfd = -1, ret;
	struct hmap_info info;
	const char *name;
	struct save_hdr h;
	bool replaced;
	__u32 data_crc = 0;
	mode_t mode;
	uid_t uid;
	gid_t gid;

	/* O_NONBLOCK: a FIFO must not hang the open; verify_file() refuses it. */
	ffd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
		   (o->all ? O_NOFOLLOW : 0));
	if (ffd < 0)
		return fail_file(file, errno, "open");
	ret = verify_file(ffd, file, &h, &data_crc);
	if (ret)
		goto out;
	if (o->all) {
		ret = check_all_file(ffd, file, &h);
		if (ret)
			goto out;
	}
	name = o->name ? o->name : h.pub_name[0] ? h.pub_name : NULL;
	if (!name) {
		ret = fail_file(file, 0,
				"saved without a published name: give 'name NAME' (an unnamed map would go with this command)");
		goto out;
	}
	mode = o->have_mode ? o->mode : h.pub_name[0] ? h.pub_mode : 0600;
	uid = o->have_owner ? o->uid : h.pub_name[0] ? h.pub_uid : geteuid();
	gid = o->have_owner ? o->gid : h.pub_name[0] ? h.pub_gid : getegid();
	ret = check_name(file, name, &h, o);
	if (ret)
		goto out;

	co.capacity_hint = h.capacity_hint;
	co.flags = h.map_flags;
	attempt(HMAP_CMD_CREATE, co.flags);
	mfd = hmap_create(h.name[0] ? h.name : NULL, h.key_size, h.value_size,
			  h.max_entries, &co);
	if (mfd < 0) {
		ret = fail_file(file, -mfd, "create the map");
		goto out;
	}
	ret = fill_map(ffd, mfd, file, &h, data_crc);
	if (ret)
		goto out;
	ret = publish_loaded(mfd, name, mode, uid, gid, o, &replaced);
	if (ret == -EEXIST)
		ret = fail_file(file, 0, "the name %s is taken (give 'replace' to replace its map)",
				name);
	else if (ret == -EPERM && (uid != geteuid() || gid != getegid()))
		ret = fail_file(file, EPERM,
				"publish %s with owner %u:%u (needs CAP_CHOWN; or give 'owner UID:GID')",
				name, uid, gid);
	else if (ret)
		ret = fail_file(file, -ret, "%s %s", replaced || o->replace ?
				"replace" : "publish", name);
	if (ret)
		goto out;
	ret = hmap_info(mfd, &info);
	if (ret) {
		ret = fail_file(file, -ret, "info");
		goto out;
	}
	print_saved("loaded", file, name, h.count, info.id, replaced);
out:
	/* Unpublished, the map goes with its fd: nothing is left behind. */
	if (mfd >= 0)
		close(mfd);
	close(ffd);
	return ret;
}

static int hmap_file_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && !strcmp(d->d_name + n - 5, ".hmap");
}

/* Every DIR/ *.hmap, in name order; a bad one does not stop the others. */
static int load_all(const char *dir, const struct load_opts *o)
{
	struct load_opts all = *o;
	struct dirent **list;
	int n, k, failed = 0;
	char *path;

	all.all = true;
	if (check_dir(dir))
		return 1;
	n = scandir(dir, &list, hmap_file_filter, alphasort);
	if (n < 0)
		return fail_file(dir, errno, "read directory");
	for (k = 0; k < n; k++) {
		if (asprintf(&path, "%s/%s", dir, list[k]->d_name) < 0)
			path = NULL;
		if (path)
			failed |= load_one(path, &all);
		else
			failed |= fail(ENOMEM, "alloc");
		free(path);
		free(list[k]);
	}
	free(list);
	return failed;
}

static int cmd_load(int argc, char **argv)
{
	struct load_opts o = { 0 };
	bool all = argc > 1 && !strcmp(argv[1], "--all");
	const char *what;
	int i;

	if (argc < 2 + all)
		return bad_usage(all ? "missing DIR" : "missing FILE");
	for (i = 2 + all; i < argc; i++) {
		what = argv[i];
		if (!strcmp(what, "replace")) {
			o.replace = true;
			continue;
		}
		if (!strcmp(what, "any-sizes")) {
			o.replace_flags = HMAP_PUBLISH_ANY_SIZES;
			continue;
		}
		if (all || i + 1 >= argc ||
		    (strcmp(what, "name") && strcmp(what, "mode") &&
		     strcmp(what, "owner")))
			return bad_usage("unexpected '%s'", what);
		i++;
		if (!strcmp(what, "name")) {
			if (!valid_arg_name(argv[i]))
				return bad_usage("bad name '%s'", argv[i]);
			o.name = argv[i];
		} else if (!strcmp(what, "mode")) {
			if (!parse_mode(argv[i], &o.mode))
				return bad_usage("mode '%s' is not octal within 0666",
						 argv[i]);
			o.have_mode = true;
		} else {
			if (!parse_owner(argv[i], &o.uid, &o.gid))
				return bad_usage("owner '%s' is not UID:GID", argv[i]);
			o.have_owner = true;
		}
	}
	if (o.replace_flags && !o.replace)
		return bad_usage("any-sizes goes with replace");
	return all ? load_all(argv[2], &o) : load_one(argv[1], &o);
}

/*
 * What PUBLISH with REPLACE of @name by the map of @mine would surely
 * refuse: no such name (-ENOENT), other sizes without ANY_SIZES (-EINVAL).
 * Returns 0 when it may go ahead, the kernel deciding the rest.
 */
static int replace_precheck(const char *name, const struct hmap_info *mine,
			    __u32 flags)
{
	struct hmap_info old;
	int fd, ret;

	fd = hmap_open_by_name(name, HMAP_F_RDONLY);
	if (fd == -ENOENT)
		return fd;
	if (fd < 0)
		return 0;
	ret = hmap_info(fd, &old);
	close(fd);
	if (!ret && !(flags & HMAP_PUBLISH_ANY_SIZES) &&
	    (old.key_size != mine->key_size ||
	     old.value_size != mine->value_size))
		return -EINVAL;
	return 0;
}

/*
 * replace MAP NAME: NAME names MAP from now on. A MAP that has a name of
 * its own leaves it (a map has one name at most), and gets it back if the
 * replace fails.
 */
static int cmd_replace(int argc, char **argv)
{
	struct hmap_info info;
	sigset_t block, orig;
	__u32 flags = 0;
	const char *name;
	int i = 1, fd, ret, ret2;

	ret = open_map(argc, argv, &i, 0, &fd);
	if (ret)
		return ret;
	if (i >= argc) {
		close(fd);
		return bad_usage("missing NAME");
	}
	name = argv[i++];
	if (i < argc && !strcmp(argv[i], "any-sizes")) {
		flags = HMAP_PUBLISH_ANY_SIZES;
		i++;
	}
	if (i != argc) {
		close(fd);
		return bad_usage("unexpected '%s'", argv[i]);
	}
	ret = hmap_info(fd, &info);
	if (ret) {
		close(fd);
		return fail(-ret, "info");
	}
	if (!strcmp(info.pub_name, name)) {
		close(fd);
		return fail(EBUSY, "replace: the map already has that name");
	}
	/*
	 * Its own name may not come back (a name owned by another needs
	 * CAP_CHOWN, and another may take it meanwhile), and the map then goes
	 * with this command: refuse first what the kernel surely would.
	 */
	if (info.pub_name[0]) {
		ret = replace_precheck(name, &info, flags);
		if (ret) {
			close(fd);
			return quiet_result(ret, "replace");
		}
	}
	/* No signal between unpublish and replace: the map lives by its fd. */
	sigfillset(&block);
	sigprocmask(SIG_BLOCK, &block, &orig);
	if (info.pub_name[0]) {
		ret = hmap_unpublish(info.pub_name);
		if (ret) {
			sigprocmask(SIG_SETMASK, &orig, NULL);
			close(fd);
			return fail(-ret, "unpublish its own name");
		}
	}
	attempt(HMAP_CMD_PUBLISH, HMAP_PUBLISH_REPLACE | flags);
	ret = hmap_replace(fd, name, flags);
	if (ret && info.pub_name[0]) {
		if (info.pub_uid != geteuid() || info.pub_gid != getegid())
			ret2 = hmap_publish_owner(fd, info.pub_name,
						  info.pub_mode, info.pub_uid,
						  info.pub_gid);
		else
			ret2 = hmap_publish(fd, info.pub_name, info.pub_mode);
		if (ret2)
			fprintf(stderr, "hmapctl replace: map %u lost its name %s: %s\n",
				info.id, info.pub_name, strerror(-ret2));
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	close(fd);
	return quiet_result(ret, "replace");
}

/*
 * --version: hmapctl's, libhmap's and the loaded module's versions (JSON:
 * one object, "module" null when there is none to tell, "module_status"
 * saying why). Exits 0 whatever the module's state.
 */
static int cmd_version(void)
{
	struct hmap_features f;
	char version[32], status[128] = "";
	int ret;

	ret = hmap_features(&f);
	if (!ret && f.version)
		snprintf(version, sizeof(version), "%u.%u.%u", f.version >> 16,
			 (f.version >> 8) & 0xff, f.version & 0xff);
	else if (!ret)
		snprintf(status, sizeof(status), "older than 0.1.0 (no FEATURES)");
	else if (ret == -ENODEV)
		snprintf(status, sizeof(status), "not loaded (%s missing)",
			 HMAP_DEV_PATH);
	else
		snprintf(status, sizeof(status), "unknown (%s: %s)",
			 strerrorname_np(-ret) ? strerrorname_np(-ret) : "?",
			 strerror(-ret));
	if (json) {
		printf("{\"hmapctl\":");
		json_str(HMAPCTL_VERSION);
		printf(",\"libhmap\":");
		json_str(hmap_version());
		printf(",\"module\":");
		if (status[0]) {
			printf("null,\"module_status\":");
			json_str(status);
		} else {
			json_str(version);
		}
		printf("}\n");
	} else {
		printf("hmapctl: %s\nlibhmap: %s\nmodule: %s\n", HMAPCTL_VERSION,
		       hmap_version(), status[0] ? status : version);
	}
	return 0;
}

/*
 * -p: stdout goes through pretty_write(), which indents the JSON hmapctl
 * prints compact: a member or element per line, four spaces a level, ": "
 * after names, empty arrays and objects kept as [] and {}. A newline at
 * the top level (after each value: JSON Lines) is kept; other whitespace
 * outside strings is dropped; strings pass as they are.
 */
struct pretty {
	int depth;
	bool in_str;
	bool esc;	/* in_str, after a backslash */
	bool opened;	/* a '[' or '{' just written, its newline held back */
	char out[4096];
	size_t len;
};

static bool pretty_flush(struct pretty *pp)
{
	size_t off = 0;
	ssize_t n;

	while (off < pp->len) {
		n = write(STDOUT_FILENO, pp->out + off, pp->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		off += n;
	}
	pp->len = 0;
	return true;
}

static bool pretty_put(struct pretty *pp, char c)
{
	if (pp->len == sizeof(pp->out) && !pretty_flush(pp))
		return false;
	pp->out[pp->len++] = c;
	return true;
}

/* A newline and the indentation of the current depth. */
static bool pretty_newline(struct pretty *pp)
{
	int i;

	if (!pretty_put(pp, '\n'))
		return false;
	for (i = 0; i < pp->depth * 4; i++)
		if (!pretty_put(pp, ' '))
			return false;
	return true;
}

static bool pretty_char(struct pretty *pp, char c)
{
	if (pp->in_str) {
		if (pp->esc)
			pp->esc = false;
		else if (c == '\\')
			pp->esc = true;
		else if (c == '"')
			pp->in_str = false;
		return pretty_put(pp, c);
	}
	if (c == ' ' || c == '\t' || c == '\r' || (c == '\n' && pp->depth))
		return true;
	if (pp->opened) {
		pp->opened = false;
		if (c == ']' || c == '}') {
			pp->depth--;
			return pretty_put(pp, c);
		}
		if (!pretty_newline(pp))
			return false;
	}
	switch (c) {
	case '[':
	case '{':
		pp->depth++;
		pp->opened = true;
		return pretty_put(pp, c);
	case ']':
	case '}':
		if (pp->depth)
			pp->depth--;
		return pretty_newline(pp) && pretty_put(pp, c);
	case ',':
		return pretty_put(pp, c) && pretty_newline(pp);
	case ':':
		return pretty_put(pp, c) && pretty_put(pp, ' ');
	case '"':
		pp->in_str = true;
		return pretty_put(pp, c);
	}
	return pretty_put(pp, c);
}

static ssize_t pretty_write(void *cookie, const char *buf, size_t size)
{
	struct pretty *pp = cookie;
	size_t i;

	for (i = 0; i < size; i++)
		if (!pretty_char(pp, buf[i]))
			return -1;
	/* What stdio flushes reaches fd 1 now: watch's lines as they come. */
	return pretty_flush(pp) ? (ssize_t)size : -1;
}

/* Sends stdout through pretty_write(); false if it cannot. */
static bool pretty_stdout(void)
{
	static struct pretty pp;
	cookie_io_functions_t io = { .write = pretty_write };
	FILE *f;

	fflush(stdout);
	f = fopencookie(&pp, "w", io);
	if (!f)
		return false;
	stdout = f;
	return true;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} verbs[] = {
	{ "create", cmd_create },
	{ "list", cmd_list },
	{ "show", cmd_show },
	{ "open", cmd_open },
	{ "lookup", cmd_lookup },
	{ "update", cmd_update },
	{ "delete", cmd_delete },
	{ "add", cmd_add },
	{ "cas", cmd_cas },
	{ "mget", cmd_mget },
	{ "dump", cmd_dump },
	{ "getnext", cmd_getnext },
	{ "clear", cmd_clear },
	{ "watch", cmd_watch },
	{ "publish", cmd_publish },
	{ "unpublish", cmd_unpublish },
	{ "replace", cmd_replace },
	{ "save", cmd_save },
	{ "load", cmd_load },
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	bool pretty = false, version = false;
	size_t v;
	int opt;

	/* ':' first: a missing argument is ':', so that -V alone is --version. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:jphK:V:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'p':
			json = pretty = true;
			break;
		case 'K':
			if (!parse_fmt(optarg, &key_fmt))
				return bad_usage("-K: unknown type '%s'", optarg);
			break;
		case 'V':
			if (!parse_fmt(optarg, &value_fmt))
				return bad_usage("-V: unknown type '%s'", optarg);
			break;
		case 'v':
			version = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			if (optopt == 'V') {
				version = true;
				break;
			}
			return bad_usage("%s needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return bad_usage("unknown option '-%c'", optopt);
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	/* Help is text, whatever -p says: JSON only from here on. */
	if (pretty && !(argc && (!strcmp(argv[0], "help") ||
				 !strcmp(argv[0], "--help") ||
				 (argc > 1 && (!strcmp(argv[1], "help") ||
					       !strcmp(argv[1], "--help"))))) &&
	    !pretty_stdout()) {
		perror("hmapctl: -p");
		return 1;
	}
	if (version) {
		if (argc)
			return bad_usage("--version takes no verb, not '%s'", argv[0]);
		return cmd_version();
	}
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[0], "help") || !strcmp(argv[0], "--help")) {
		if (argc > 1)
			return verb_usage(argv[1]);
		usage(stdout);
		return 0;
	}
	for (v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		if (strcmp(argv[0], verbs[v].name))
			continue;
		verb = verbs[v].name;
		if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")))
			return verb_usage(verb);
		return verbs[v].fn(argc, argv);
	}
	fprintf(stderr, "hmapctl: unknown verb '%s' (see 'hmapctl help')\n", argv[0]);
	return 2;
}
