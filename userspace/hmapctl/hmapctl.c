// SPDX-License-Identifier: GPL-2.0
/*
 * hmapctl: inspect and change hmap maps from a shell, in the manner of
 * `bpftool map`.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libhmap.h"

enum fmt { FMT_HEX, FMT_U32, FMT_U64, FMT_STRING };

static bool json;
static enum fmt key_fmt = FMT_HEX, value_fmt = FMT_HEX;
static const char *verb = "hmapctl";

static const char usage_text[] =
"Usage: hmapctl [-j] [-K TYPE] [-V TYPE] VERB [ARGS]\n"
"\n"
"Verbs:\n"
"  create NAME key SIZE value SIZE entries N [capacity N] [mode MODE] [prealloc] [lru] [ttl]\n"
"                                create a map, label it NAME and publish it\n"
"                                as NAME (mode default 0600); -j prints it\n"
"  list                          maps this user may open by id\n"
"  show MAP                      describe a map\n"
"  open MAP [rdonly]             check that a map can be opened\n"
"  lookup MAP key DATA [version] print the value of a key (and its version)\n"
"  update MAP key DATA value DATA [any|noexist|exist] [version V] [ttl MS]\n"
"  delete MAP key DATA [version V]\n"
"  add MAP key DATA delta N [create] [ttl MS]\n"
"                                add N (signed) to a 4- or 8-byte counter\n"
"  cas MAP key DATA expect DATA value DATA\n"
"                                compare-and-swap the value\n"
"  mget MAP key DATA [key DATA]...\n"
"                                look up many keys in one call\n"
"  dump MAP                      every entry, in iteration order (LOOKUP_BATCH)\n"
"  getnext MAP [key DATA]        the key after DATA, or the first key\n"
"  clear MAP                     remove every entry\n"
"  publish MAP NAME [mode MODE]  give a map a (further) published name\n"
"  unpublish NAME                remove a published name\n"
"  help [VERB]\n"
"\n"
"  MAP  := name NAME | id ID\n"
"  DATA := [hex] BYTE... | u32 N | u64 N | string STR\n"
"          BYTE is two hex digits, optionally 0x-prefixed; several may be\n"
"          run together (0x0102). Numbers are stored in host byte order;\n"
"          strings are NUL-padded to the key or value size.\n"
"\n"
"Options:\n"
"  -j        JSON output\n"
"  -K TYPE   print keys as hex (default), u32, u64 or string\n"
"  -V TYPE   print values as hex (default), u32, u64 or string\n";

static const struct {
	const char *verb;
	const char *help;
} verb_help[] = {
	{ "create", "hmapctl create NAME key SIZE value SIZE entries N [capacity N] [mode MODE] [prealloc] [lru] [ttl]\n"
		    "  Creates a map labelled NAME and publishes it as NAME with MODE\n"
		    "  (octal, a subset of 0666; default 0600), so that it outlives this\n"
		    "  command. capacity sizes the table so that N entries never resize it.\n"
		    "  prealloc allocates all N entries now, so inserts never allocate.\n"
		    "  lru: when full, an insert evicts an entry used long ago instead\n"
		    "  of failing with E2BIG. ttl: entries may be given a time to live.\n" },
	{ "list", "hmapctl list\n  Every live map this user may open by id (its own, or all for root).\n" },
	{ "show", "hmapctl show MAP\n  Sizes, limits, count, memory, names, owner and counters of a map.\n" },
	{ "open", "hmapctl open MAP [rdonly]\n  Opens the map (read-write unless rdonly) and says so.\n" },
	{ "lookup", "hmapctl lookup MAP key DATA [version]\n  Prints the key's value, and with 'version' its version; fails with\n  ENOENT if absent.\n" },
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
	{ "dump", "hmapctl dump MAP\n  Prints every entry. Entries deleted meanwhile are skipped.\n" },
	{ "getnext", "hmapctl getnext MAP [key DATA]\n  Prints the key after DATA (which need not exist), or the first key.\n" },
	{ "clear", "hmapctl clear MAP\n" },
	{ "publish", "hmapctl publish MAP NAME [mode MODE]\n" },
	{ "unpublish", "hmapctl unpublish NAME\n" },
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

/* A usage mistake: exit 2. */
static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hmapctl %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'hmapctl help %s')\n", verb);
	return 2;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* A failed command: errno name and sentence, exit 1. */
static int fail(int err, const char *what)
{
	const char *name = strerrorname_np(err);
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s: %s%s", what, name ? name : "?",
		 strerror(err), access(HMAP_DEV_PATH, F_OK) ?
		 " (no " HMAP_DEV_PATH ": is the hmap module loaded?)" : "");
	fprintf(stderr, "hmapctl %s: %s\n", verb, msg);
	if (json) {
		printf("{\"error\":");
		json_str(msg);
		printf(",\"errno\":");
		json_str(name ? name : "?");
		printf("}\n");
	}
	return 1;
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

static bool parse_fmt(const char *s, enum fmt *f)
{
	static const char *const names[] = { "hex", "u32", "u64", "string" };
	int i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(s, names[i])) {
			*f = i;
			return true;
		}
	}
	return false;
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
		"expect", "create", "ttl", NULL,
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
		char s[HMAP_MAX_VALUE_SIZE + 1];
		size_t n = strnlen((const char *)buf, size);

		memcpy(s, buf, n);
		s[n] = 0;
		if (json) {
			json_str(s);
		} else {
			for (i = 0; i < n; i++)
				putchar(isprint(s[i]) ? s[i] : '.');
		}
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
		*fd = hmap_open_by_name(argv[*i + 1], flags);
	} else if (!strcmp(argv[*i], "id")) {
		if (!parse_u64(argv[*i + 1], UINT32_MAX, &id))
			return bad_usage("'%s' is not an id", argv[*i + 1]);
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
		       "\"expirations\":%llu,\"prealloc\":%s,\"lru\":%s,\"ttl\":%s}",
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
		       in->map_flags & HMAP_F_TTL ? "true" : "false");
		return;
	}
	printf("%u: name %s  key %uB  value %uB  max_entries %u  count %u  bytes %llu%s%s%s\n",
	       in->id, in->name[0] ? in->name : "-", in->key_size,
	       in->value_size, in->max_entries, in->count,
	       (unsigned long long)in->bytes,
	       in->map_flags & HMAP_F_PREALLOC ? "  prealloc" : "",
	       in->map_flags & HMAP_F_LRU ? "  lru" : "",
	       in->map_flags & HMAP_F_TTL ? "  ttl" : "");
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
	fd = hmap_create(name, ks, vs, max, &o);
	if (fd < 0)
		return fail(-fd, "create");
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

static int cmd_list(int argc, char **argv)
{
	struct hmap_info info;
	__u32 id = 0;
	bool first = true;
	int ret, fd;

	if (argc > 1)
		return bad_usage("unexpected '%s'", argv[1]);
	if (json)
		putchar('[');
	while (!(ret = hmap_get_next_id(id, &id))) {
		fd = hmap_open_by_id(id, HMAP_F_RDONLY);
		if (fd == -EPERM || fd == -ENOENT)
			continue;
		if (fd < 0)
			return fail(-fd, "open");
		ret = hmap_info(fd, &info);
		close(fd);
		if (ret)
			return fail(-ret, "info");
		if (json && !first)
			putchar(',');
		print_info(&info);
		first = false;
	}
	if (json)
		printf("]\n");
	return ret == -ENOENT ? 0 : fail(-ret, "list");
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
	struct hmap_info info;
	unsigned char *key = NULL, *value;
	int i = 1, fd = -1, ret;

	bool want_version = false;
	__u64 version = 0;

	ret = map_and_key(argc, argv, &i, HMAP_F_RDONLY, &fd, &info, &key, &value,
			  false);
	if (ret)
		goto out;
	if (i < argc && !strcmp(argv[i], "version")) {
		want_version = true;
		i++;
	}
	if (i != argc) {
		ret = bad_usage("unexpected '%s'", argv[i]);
		goto out;
	}
	ret = hmap_lookup_version(fd, key, value, &version);
	if (ret) {
		ret = fail(-ret, "lookup");
		goto out;
	}
	print_entry_open(key, info.key_size, value, info.value_size, "value");
	if (want_version)
		print_version(version, true);
	print_end();
out:
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
		ret = quiet_result(hmap_update_ttl(fd, key, value, flags, ttl_ms),
				   "update");
		goto out;
	}
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
	if (ret)
		goto out;
	if (i != argc) {
		ret = bad_usage("unexpected '%s'", argv[i]);
		goto out;
	}
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

static int cmd_dump(int argc, char **argv)
{
	struct hmap_info info;
	unsigned char *buf = NULL, *cur, *keys, *values;
	int i = 1, fd = -1, ret, n = 0;
	bool started = false;
	__u32 got, j;

	ret = open_map(argc, argv, &i, HMAP_F_RDONLY, &fd);
	if (ret)
		return ret;
	if (i != argc) {
		ret = bad_usage("unexpected '%s'", argv[i]);
		goto out;
	}
	ret = hmap_info(fd, &info);
	if (ret) {
		ret = fail(-ret, "info");
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
		ret = fail(-ret, "dump");
		goto out;
	}
	if (json)
		printf("]\n");
	else
		printf("Found %d element%s\n", n, n == 1 ? "" : "s");
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
	ret = hmap_clear(fd);
	close(fd);
	return quiet_result(ret, "clear");
}

static int cmd_publish(int argc, char **argv)
{
	unsigned long mode = 0600;
	const char *name;
	int i = 1, fd, ret;
	char *end;

	ret = open_map(argc, argv, &i, 0, &fd);
	if (ret)
		return ret;
	if (i >= argc) {
		close(fd);
		return bad_usage("missing NAME");
	}
	name = argv[i++];
	if (i < argc) {
		if (strcmp(argv[i], "mode") || i + 1 >= argc) {
			close(fd);
			return bad_usage("expected 'mode MODE'");
		}
		mode = strtoul(argv[i + 1], &end, 8);
		if (*end || i + 2 != argc) {
			close(fd);
			return bad_usage("bad mode '%s'", argv[i + 1]);
		}
	}
	ret = hmap_publish(fd, name, mode);
	close(fd);
	return quiet_result(ret, "publish");
}

static int cmd_unpublish(int argc, char **argv)
{
	if (argc != 2)
		return bad_usage("expected NAME");
	return quiet_result(hmap_unpublish(argv[1]), "unpublish");
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
	{ "publish", cmd_publish },
	{ "unpublish", cmd_unpublish },
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	size_t v;
	int opt;

	while ((opt = getopt_long(argc, argv, "+jhK:V:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'K':
			if (!parse_fmt(optarg, &key_fmt))
				return bad_usage("-K: unknown type '%s'", optarg);
			break;
		case 'V':
			if (!parse_fmt(optarg, &value_fmt))
				return bad_usage("-V: unknown type '%s'", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
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
