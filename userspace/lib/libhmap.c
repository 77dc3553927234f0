// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libhmap: one function per /dev/hmap command.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libhmap.h"
#include "mapped_walk.h"

/* From the Makefile's LIBHMAP_VERSION, as the shared library's file name. */
#ifndef LIBHMAP_VERSION
#error "build with -DLIBHMAP_VERSION='\"MAJOR.MINOR.PATCH\"'"
#endif

/* Returns -errno, leaving errno set, from a failed call's -1. */
static int hmap_err(int ret)
{
	return ret < 0 ? -errno : ret;
}

static __u64 ptr(const void *p)
{
	return (__u64)(uintptr_t)p;
}

/* Copies a name into a kernel name buffer; -EINVAL if it cannot fit. */
static int hmap_set_name(char dst[HMAP_NAME_LEN], const char *name)
{
	size_t len = name ? strlen(name) : 0;

	memset(dst, 0, HMAP_NAME_LEN);
	if (len >= HMAP_NAME_LEN) {
		errno = EINVAL;
		return -EINVAL;
	}
	memcpy(dst, name, len);
	return 0;
}

/*
 * Opens /dev/hmap. A missing node (ENOENT), or a node with no driver behind
 * it (ENXIO, ENODEV: the module is not loaded), is -ENODEV, so that callers
 * never read it as a command's ENOENT, "no such map".
 */
static int hmap_dev_open(void)
{
	int fd = open(HMAP_DEV_PATH, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENXIO)
		errno = ENODEV;
	return -errno;
}

/* Issues a command on a fresh /dev/hmap fd. */
static int hmap_dev_ioctl(unsigned long cmd, void *arg)
{
	int fd, ret, err;

	fd = hmap_dev_open();
	if (fd < 0)
		return fd;
	ret = ioctl(fd, cmd, arg);
	err = errno;
	close(fd);
	errno = err;
	return hmap_err(ret);
}

int hmap_create(const char *name, __u32 key_size, __u32 value_size,
		__u32 max_entries, const struct hmap_create_opts *opts)
{
	struct hmap_create c = {
		.size = sizeof(c),
		.key_size = key_size,
		.value_size = value_size,
		.max_entries = max_entries,
	};

	if (hmap_set_name(c.name, name))
		return -EINVAL;
	if (opts && opts->sz >= sizeof(*opts)) {
		c.capacity_hint = opts->capacity_hint;
		c.flags = opts->flags;
	}
	return hmap_dev_ioctl(HMAP_IOC_CREATE, &c);
}

/*
 * The struct as it was before @version: the kernel then neither reads nor
 * writes a version, and the plain commands pay nothing for it.
 */
#define HMAP_ELEM_OP_SIZE_V0	offsetof(struct hmap_elem_op, version)

static int hmap_elem(int map_fd, unsigned long cmd, const void *key,
		     const void *value, __u64 flags)
{
	struct hmap_elem_op op = {
		.size = HMAP_ELEM_OP_SIZE_V0,
		.flags = flags,
		.key = ptr(key),
		.value = ptr(value),
	};

	return hmap_err(ioctl(map_fd, cmd, &op));
}

int hmap_lookup(int map_fd, const void *key, void *value)
{
	return hmap_elem(map_fd, HMAP_IOC_LOOKUP, key, value, 0);
}

int hmap_update(int map_fd, const void *key, const void *value, __u64 flags)
{
	return hmap_elem(map_fd, HMAP_IOC_UPDATE, key, value, flags);
}

int hmap_delete(int map_fd, const void *key)
{
	return hmap_elem(map_fd, HMAP_IOC_DELETE, key, NULL, 0);
}

int hmap_lookup_and_delete(int map_fd, const void *key, void *value)
{
	return hmap_elem(map_fd, HMAP_IOC_LOOKUP_AND_DELETE, key, value, 0);
}

int hmap_get_next_key(int map_fd, const void *key, void *next_key)
{
	struct hmap_get_next_key g = {
		.size = sizeof(g),
		.key = ptr(key),
		.next_key = ptr(next_key),
	};

	return hmap_err(ioctl(map_fd, HMAP_IOC_GET_NEXT_KEY, &g));
}

int hmap_clear(int map_fd)
{
	struct hmap_clear c = { .size = sizeof(c) };

	return hmap_err(ioctl(map_fd, HMAP_IOC_CLEAR, &c));
}

int hmap_info(int map_fd, struct hmap_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return hmap_err(ioctl(map_fd, HMAP_IOC_INFO, info));
}

int hmap_publish(int map_fd, const char *name, mode_t mode)
{
	struct hmap_publish p = { .size = sizeof(p), .mode = mode };

	if (hmap_set_name(p.name, name))
		return -EINVAL;
	return hmap_err(ioctl(map_fd, HMAP_IOC_PUBLISH, &p));
}

int hmap_replace(int map_fd, const char *name, __u32 flags)
{
	struct hmap_publish p = {
		.size = sizeof(p),
		.flags = HMAP_PUBLISH_REPLACE | flags,
	};

	if (hmap_set_name(p.name, name))
		return -EINVAL;
	return hmap_err(ioctl(map_fd, HMAP_IOC_PUBLISH, &p));
}

int hmap_publish_owner(int map_fd, const char *name, mode_t mode, uid_t uid,
		       gid_t gid)
{
	struct hmap_publish p = {
		.size = sizeof(p),
		.mode = mode,
		.flags = HMAP_PUBLISH_OWNER,
		.uid = uid,
		.gid = gid,
	};

	if (hmap_set_name(p.name, name))
		return -EINVAL;
	return hmap_err(ioctl(map_fd, HMAP_IOC_PUBLISH, &p));
}

int hmap_unpublish(const char *name)
{
	struct hmap_unpublish u = { .size = sizeof(u) };

	if (hmap_set_name(u.name, name))
		return -EINVAL;
	return hmap_dev_ioctl(HMAP_IOC_UNPUBLISH, &u);
}

int hmap_open_by_name(const char *name, __u32 flags)
{
	struct hmap_open_by_name o = { .size = sizeof(o), .flags = flags };

	if (hmap_set_name(o.name, name))
		return -EINVAL;
	return hmap_dev_ioctl(HMAP_IOC_OPEN_BY_NAME, &o);
}

int hmap_open_by_id(__u32 id, __u32 flags)
{
	struct hmap_open_by_id o = { .size = sizeof(o), .flags = flags, .id = id };

	return hmap_dev_ioctl(HMAP_IOC_OPEN_BY_ID, &o);
}

int hmap_get_next_id(__u32 start_id, __u32 *next_id)
{
	struct hmap_get_next_id g = { .size = sizeof(g), .start_id = start_id };
	int ret;

	ret = hmap_dev_ioctl(HMAP_IOC_GET_NEXT_ID, &g);
	if (!ret)
		*next_id = g.next_id;
	return ret;
}

static int hmap_batch_cmd(int map_fd, unsigned long cmd, struct hmap_batch *b,
			  __u32 *count)
{
	int ret;

	b->size = sizeof(*b);
	b->count = *count;
	ret = hmap_err(ioctl(map_fd, cmd, b));
	/* How far the kernel got; unchanged if it rejected the command. */
	*count = b->count;
	return ret;
}

int hmap_lookup_batch(int map_fd, const void *in_cursor, void *out_cursor,
		      void *keys, void *values, __u32 *count)
{
	struct hmap_batch b = {
		.in_cursor = ptr(in_cursor), .out_cursor = ptr(out_cursor),
		.keys = ptr(keys), .values = ptr(values),
	};

	return hmap_batch_cmd(map_fd, HMAP_IOC_LOOKUP_BATCH, &b, count);
}

int hmap_lookup_and_delete_batch(int map_fd, const void *in_cursor,
				 void *out_cursor, void *keys, void *values,
				 __u32 *count)
{
	struct hmap_batch b = {
		.in_cursor = ptr(in_cursor), .out_cursor = ptr(out_cursor),
		.keys = ptr(keys), .values = ptr(values),
	};

	return hmap_batch_cmd(map_fd, HMAP_IOC_LOOKUP_AND_DELETE_BATCH, &b, count);
}

int hmap_update_batch(int map_fd, const void *keys, const void *values,
		      __s32 *status, __u32 *count, __u64 elem_flags,
		      __u32 flags)
{
	struct hmap_batch b = {
		.flags = flags, .elem_flags = elem_flags, .keys = ptr(keys),
		.values = ptr(values), .status = ptr(status),
	};

	return hmap_batch_cmd(map_fd, HMAP_IOC_UPDATE_BATCH, &b, count);
}

int hmap_delete_batch(int map_fd, const void *keys, __s32 *status,
		      __u32 *count, __u32 flags)
{
	struct hmap_batch b = {
		.flags = flags, .keys = ptr(keys), .status = ptr(status),
	};

	return hmap_batch_cmd(map_fd, HMAP_IOC_DELETE_BATCH, &b, count);
}

/* One entry command with a version in and out. */
static int hmap_elem_version(int map_fd, unsigned long cmd, const void *key,
			     const void *value, __u64 flags, __u64 *version)
{
	struct hmap_elem_op op = {
		.size = sizeof(op),
		.flags = flags,
		.key = ptr(key),
		.value = ptr(value),
		.version = version ? *version : 0,
	};
	int ret = hmap_err(ioctl(map_fd, cmd, &op));

	if (version && (!ret || ret == -EEXIST || ret == -ESTALE))
		*version = op.version;
	return ret;
}

int hmap_lookup_version(int map_fd, const void *key, void *value,
			__u64 *version)
{
	return hmap_elem_version(map_fd, HMAP_IOC_LOOKUP, key, value, 0, version);
}

int hmap_update_version(int map_fd, const void *key, const void *value,
			__u64 flags, __u64 *version)
{
	return hmap_elem_version(map_fd, HMAP_IOC_UPDATE, key, value, flags,
				 version);
}

int hmap_delete_version(int map_fd, const void *key, __u64 *version)
{
	return hmap_elem_version(map_fd, HMAP_IOC_DELETE, key, NULL,
				 HMAP_IF_VERSION, version);
}

int hmap_add(int map_fd, const void *key, __s64 delta, __u32 flags,
	     __u64 *old_value, __u64 *new_value)
{
	return hmap_add_ttl(map_fd, key, delta, flags, 0, old_value, new_value);
}

int hmap_add_ttl(int map_fd, const void *key, __s64 delta, __u32 flags,
		 __u64 ttl_ms, __u64 *old_value, __u64 *new_value)
{
	struct hmap_add a = {
		.size = sizeof(a),
		.flags = flags,
		.key = ptr(key),
		.delta = delta,
		.ttl_ms = ttl_ms,
	};
	int ret = hmap_err(ioctl(map_fd, HMAP_IOC_ADD, &a));

	if (!ret && old_value)
		*old_value = a.old_value;
	if (!ret && new_value)
		*new_value = a.new_value;
	return ret;
}

int hmap_cmpxchg(int map_fd, const void *key, void *expected,
		 const void *desired, __u64 *version)
{
	struct hmap_cmpxchg c = {
		.size = sizeof(c),
		.key = ptr(key),
		.expected = ptr(expected),
		.desired = ptr(desired),
	};
	int ret = hmap_err(ioctl(map_fd, HMAP_IOC_CMPXCHG, &c));

	if (version && (!ret || ret == -ESTALE))
		*version = c.version;
	return ret;
}

int hmap_lookup_multi(int map_fd, const void *keys, void *values,
		      __s32 *status, __u32 *count)
{
	struct hmap_batch b = {
		.size = sizeof(b),
		.keys = ptr(keys),
		.values = ptr(values),
		.status = ptr(status),
		.count = *count,
	};
	int ret = hmap_err(ioctl(map_fd, HMAP_IOC_LOOKUP_MULTI, &b));

	*count = b.count;
	return ret;
}

int hmap_update_ttl(int map_fd, const void *key, const void *value,
		    __u64 flags, __u64 ttl_ms)
{
	struct hmap_elem_op op = {
		.size = sizeof(op),
		.flags = flags,
		.key = ptr(key),
		.value = ptr(value),
		.ttl_ms = ttl_ms,
	};

	return hmap_err(ioctl(map_fd, HMAP_IOC_UPDATE, &op));
}

int hmap_watch(int map_fd, __u32 flags, __u32 buf_bytes, __u64 *seq)
{
	struct hmap_watch w = {
		.size = sizeof(w),
		.flags = flags,
		.buf_bytes = buf_bytes,
	};
	int ret = hmap_err(ioctl(map_fd, HMAP_IOC_WATCH, &w));

	if (ret >= 0 && seq)
		*seq = w.seq;
	return ret;
}

ssize_t hmap_watch_read(int watch_fd, void *buf, size_t len)
{
	ssize_t ret = read(watch_fd, buf, len);

	return ret < 0 ? -errno : ret;
}

const struct hmap_event *hmap_event_next(const void *buf, size_t len,
					 const struct hmap_event *prev)
{
	const unsigned char *start = buf, *p;
	const struct hmap_event *ev;
	size_t off, left;

	if (!prev) {
		off = 0;
	} else {
		p = (const unsigned char *)prev;
		if (p < start || (size_t)(p - start) >= len)
			return NULL;
		off = (size_t)(p - start) + prev->len;
	}
	if (off >= len)
		return NULL;
	left = len - off;
	if (left < sizeof(*ev))
		return NULL;
	ev = (const struct hmap_event *)(start + off);
	if (ev->len < sizeof(*ev) || ev->len % 8 || ev->len > left ||
	    (__u64)ev->key_size + ev->value_size > ev->len - sizeof(*ev))
		return NULL;
	return ev;
}

const char *hmap_version(void)
{
	return LIBHMAP_VERSION;
}

/* Bit of command @nr in &hmap_features.commands. */
#define HMAP_CMD_BIT(nr)	(1ULL << ((nr) - HMAP_CMD_BASE))

/*
 * What a module older than HMAP_IOC_FEATURES knows: the commands up to
 * WATCH, and the flags those commands accepted in the release that added
 * WATCH, the last one without FEATURES.
 */
static const struct hmap_features hmap_features_baseline = {
	.version = 0,
	.commands = HMAP_CMD_BIT(HMAP_CMD_WATCH + 1) - 1,
	.create_flags = HMAP_F_RDONLY | HMAP_F_PREALLOC | HMAP_F_LRU |
			HMAP_F_TTL,
	.update_flags = HMAP_NOEXIST | HMAP_EXIST | HMAP_IF_VERSION,
	.delete_flags = HMAP_IF_VERSION,
	.publish_flags = HMAP_PUBLISH_REPLACE | HMAP_PUBLISH_ANY_SIZES |
			 HMAP_PUBLISH_OWNER,
	.open_flags = HMAP_F_RDONLY,
	.batch_flags = HMAP_BATCH_CONTINUE,
	.add_flags = HMAP_ADD_CREATE,
	.watch_flags = HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK,
	.batch_elem_flags = HMAP_NOEXIST | HMAP_EXIST,
};

int hmap_features(struct hmap_features *f)
{
	int err = errno, ret;

	memset(f, 0, sizeof(*f));
	f->size = sizeof(*f);
	ret = hmap_dev_ioctl(HMAP_IOC_FEATURES, f);
	if (ret == -ENOTTY) {
		*f = hmap_features_baseline;
		f->size = sizeof(*f);
		errno = err;
		return 0;
	}
	if (ret < 0)
		memset(f, 0, sizeof(*f));
	return ret;
}

/* The name of each command, by HMAP_CMD_* - HMAP_CMD_BASE. */
static const char *const hmap_cmd_names[] = {
	[HMAP_CMD_CREATE - HMAP_CMD_BASE] = "HMAP_IOC_CREATE",
	[HMAP_CMD_LOOKUP - HMAP_CMD_BASE] = "HMAP_IOC_LOOKUP",
	[HMAP_CMD_UPDATE - HMAP_CMD_BASE] = "HMAP_IOC_UPDATE",
	[HMAP_CMD_DELETE - HMAP_CMD_BASE] = "HMAP_IOC_DELETE",
	[HMAP_CMD_LOOKUP_AND_DELETE - HMAP_CMD_BASE] = "HMAP_IOC_LOOKUP_AND_DELETE",
	[HMAP_CMD_GET_NEXT_KEY - HMAP_CMD_BASE] = "HMAP_IOC_GET_NEXT_KEY",
	[HMAP_CMD_CLEAR - HMAP_CMD_BASE] = "HMAP_IOC_CLEAR",
	[HMAP_CMD_INFO - HMAP_CMD_BASE] = "HMAP_IOC_INFO",
	[HMAP_CMD_PUBLISH - HMAP_CMD_BASE] = "HMAP_IOC_PUBLISH",
	[HMAP_CMD_UNPUBLISH - HMAP_CMD_BASE] = "HMAP_IOC_UNPUBLISH",
	[HMAP_CMD_OPEN_BY_NAME - HMAP_CMD_BASE] = "HMAP_IOC_OPEN_BY_NAME",
	[HMAP_CMD_OPEN_BY_ID - HMAP_CMD_BASE] = "HMAP_IOC_OPEN_BY_ID",
	[HMAP_CMD_GET_NEXT_ID - HMAP_CMD_BASE] = "HMAP_IOC_GET_NEXT_ID",
	[HMAP_CMD_LOOKUP_BATCH - HMAP_CMD_BASE] = "HMAP_IOC_LOOKUP_BATCH",
	[HMAP_CMD_LOOKUP_AND_DELETE_BATCH - HMAP_CMD_BASE] =
		"HMAP_IOC_LOOKUP_AND_DELETE_BATCH",
	[HMAP_CMD_UPDATE_BATCH - HMAP_CMD_BASE] = "HMAP_IOC_UPDATE_BATCH",
	[HMAP_CMD_DELETE_BATCH - HMAP_CMD_BASE] = "HMAP_IOC_DELETE_BATCH",
	[HMAP_CMD_ADD - HMAP_CMD_BASE] = "HMAP_IOC_ADD",
	[HMAP_CMD_CMPXCHG - HMAP_CMD_BASE] = "HMAP_IOC_CMPXCHG",
	[HMAP_CMD_LOOKUP_MULTI - HMAP_CMD_BASE] = "HMAP_IOC_LOOKUP_MULTI",
	[HMAP_CMD_WATCH - HMAP_CMD_BASE] = "HMAP_IOC_WATCH",
	[HMAP_CMD_FEATURES - HMAP_CMD_BASE] = "HMAP_IOC_FEATURES",
};

struct hmap_flag_name {
	__u64 flag;
	const char *name;
};

static const struct hmap_flag_name hmap_create_flag_names[] = {
	{ HMAP_F_RDONLY, "HMAP_F_RDONLY" },
	{ HMAP_F_PREALLOC, "HMAP_F_PREALLOC" },
	{ HMAP_F_LRU, "HMAP_F_LRU" },
	{ HMAP_F_TTL, "HMAP_F_TTL" },
	{ HMAP_F_MMAP, "HMAP_F_MMAP" },
	{ 0, NULL },
};

static const struct hmap_flag_name hmap_update_flag_names[] = {
	{ HMAP_NOEXIST, "HMAP_NOEXIST" },
	{ HMAP_EXIST, "HMAP_EXIST" },
	{ HMAP_IF_VERSION, "HMAP_IF_VERSION" },
	{ 0, NULL },
};

static const struct hmap_flag_name hmap_publish_flag_names[] = {
	{ HMAP_PUBLISH_REPLACE, "HMAP_PUBLISH_REPLACE" },
	{ HMAP_PUBLISH_ANY_SIZES, "HMAP_PUBLISH_ANY_SIZES" },
	{ HMAP_PUBLISH_OWNER, "HMAP_PUBLISH_OWNER" },
	{ 0, NULL },
};

static const struct hmap_flag_name hmap_open_flag_names[] = {
	{ HMAP_F_RDONLY, "HMAP_F_RDONLY" },
	{ 0, NULL },
};

static const struct hmap_flag_name hmap_batch_flag_names[] = {
	{ HMAP_BATCH_CONTINUE, "HMAP_BATCH_CONTINUE" },
	{ 0, NULL },
};

static const struct hmap_flag_name hmap_add_flag_names[] = {
	{ HMAP_ADD_CREATE, "HMAP_ADD_CREATE" },
	{ 0, NULL },
};

static const struct hmap_flag_name hmap_watch_flag_names[] = {
	{ HMAP_WATCH_VALUES, "HMAP_WATCH_VALUES" },
	{ HMAP_WATCH_NONBLOCK, "HMAP_WATCH_NONBLOCK" },
	{ 0, NULL },
};

static const struct hmap_flag_name hmap_no_flag_names[] = {
	{ 0, NULL },
};

/*
 * The flags command @nr accepts by @f, and their names; for the commands
 * whose flags must be 0, 0 and an empty list.
 */
static __u64 hmap_cmd_flags(const struct hmap_features *f, unsigned int nr,
			    const struct hmap_flag_name **names)
{
	switch (nr) {
	case HMAP_CMD_CREATE:
		*names = hmap_create_flag_names;
		return f->create_flags;
	case HMAP_CMD_UPDATE:
		*names = hmap_update_flag_names;
		return f->update_flags;
	case HMAP_CMD_DELETE:
		*names = hmap_update_flag_names;
		return f->delete_flags;
	case HMAP_CMD_PUBLISH:
		*names = hmap_publish_flag_names;
		return f->publish_flags;
	case HMAP_CMD_OPEN_BY_NAME:
	case HMAP_CMD_OPEN_BY_ID:
		*names = hmap_open_flag_names;
		return f->open_flags;
	case HMAP_CMD_UPDATE_BATCH:
	case HMAP_CMD_DELETE_BATCH:
		*names = hmap_batch_flag_names;
		return f->batch_flags;
	case HMAP_CMD_ADD:
		*names = hmap_add_flag_names;
		return f->add_flags;
	case HMAP_CMD_WATCH:
		*names = hmap_watch_flag_names;
		return f->watch_flags;
	}
	*names = hmap_no_flag_names;
	return 0;
}

/* "0.1.0", or "older than 0.1.0" for a module without FEATURES. */
static void hmap_module_version(const struct hmap_features *f, char *buf,
				size_t len)
{
	if (!f->version)
		snprintf(buf, len, "older than 0.1.0");
	else
		snprintf(buf, len, "%u.%u.%u", f->version >> 16,
			 (f->version >> 8) & 0xff, f->version & 0xff);
}

/* snprintf() into @why if there is one; keeps errno. */
static void hmap_why(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void hmap_why(char *why, size_t len, const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	errno = err;
}

int hmap_check_feature(const struct hmap_features *f, unsigned int cmd,
		       __u64 flags, char *why, size_t len)
{
	const struct hmap_flag_name *names;
	struct hmap_features own;
	unsigned int nr;
	char version[32];
	__u64 missing;
	int ret;

	if (why && len)
		why[0] = 0;
	/* An HMAP_IOC_* number carries its HMAP_CMD_* in its low byte. */
	nr = cmd > 0xff && _IOC_TYPE(cmd) == HMAP_TYPE ? _IOC_NR(cmd) : cmd;
	if (nr < HMAP_CMD_BASE || nr - HMAP_CMD_BASE >= 64) {
		hmap_why(why, len, "%#x is not an hmap command", cmd);
		errno = EINVAL;
		return -EINVAL;
	}
	if (!f) {
		ret = hmap_features(&own);
		if (ret) {
			if (ret == -ENODEV)
				hmap_why(why, len, "%s: no such device: is the hmap module loaded?",
					 HMAP_DEV_PATH);
			else
				hmap_why(why, len, "%s: %s", HMAP_DEV_PATH,
					 strerror(-ret));
			return ret;
		}
		f = &own;
	}
	hmap_module_version(f, version, sizeof(version));
	if (!(f->commands & HMAP_CMD_BIT(nr))) {
		if (nr - HMAP_CMD_BASE < sizeof(hmap_cmd_names) /
					 sizeof(hmap_cmd_names[0]))
			hmap_why(why, len,
				 "the loaded hmap module (%s) does not support %s",
				 version, hmap_cmd_names[nr - HMAP_CMD_BASE]);
		else
			hmap_why(why, len,
				 "the loaded hmap module (%s) does not support command %#x",
				 version, nr);
		errno = EOPNOTSUPP;
		return -EOPNOTSUPP;
	}
	missing = flags & ~hmap_cmd_flags(f, nr, &names);
	if (missing) {
		const char *name = NULL;
		const char *cmd_name = nr - HMAP_CMD_BASE <
				       sizeof(hmap_cmd_names) /
				       sizeof(hmap_cmd_names[0]) ?
				       hmap_cmd_names[nr - HMAP_CMD_BASE] : "it";

		/* Name the lowest flag missing, if it is one this library knows. */
		for (; names->name; names++) {
			if (missing & names->flag & -missing) {
				name = names->name;
				break;
			}
		}
		if (name)
			hmap_why(why, len,
				 "the loaded hmap module (%s) does not support %s",
				 version, name);
		else
			hmap_why(why, len,
				 "the loaded hmap module (%s) does not support flag %#llx of %s",
				 version, (unsigned long long)(missing & -missing),
				 cmd_name);
		errno = EOPNOTSUPP;
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * A mapped image (mapped.c reads it). The counters are written by every
 * lookup: on a cache line of their own, so that threads sharing the
 * mapping do not also keep fetching back the line of the view they read.
 */
struct hmap_mapping {
	struct libhmap_view view;
	void *addr;
	size_t len;
	int fd;
	struct hmap_mapped_stats stats __attribute__((aligned(64)));
};

/* Sets errno from a negative errno, and returns it. */
static int hmap_fail(int ret)
{
	errno = -ret;
	return ret;
}

int hmap_mmap(int map_fd, struct hmap_mapping **out)
{
	struct hmap_mapping *m;
	struct hmap_info info;
	void *addr;
	int fd, ret;

	*out = NULL;
	ret = hmap_info(map_fd, &info);
	if (ret)
		return ret;
	/* 0 also from a module that predates the field: it has no images. */
	if (!info.mmap_bytes)
		return hmap_fail(-ENODEV);
	if (info.mmap_bytes > SIZE_MAX)
		return hmap_fail(-ENOMEM);
	m = aligned_alloc(_Alignof(struct hmap_mapping), sizeof(*m));
	if (!m)
		return hmap_fail(-ENOMEM);
	memset(m, 0, sizeof(*m));
	/* Our own fd, for the fallback: the caller may close theirs. */
	fd = fcntl(map_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto err_free;
	}
	addr = mmap(NULL, info.mmap_bytes, PROT_READ, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	ret = libhmap_view_init(&m->view, addr, info.mmap_bytes,
				info.key_size, info.value_size);
	if (ret)
		goto err_unmap;
	m->addr = addr;
	m->len = info.mmap_bytes;
	m->fd = fd;
	*out = m;
	return 0;

err_unmap:
	munmap(addr, info.mmap_bytes);
err_close:
	close(fd);
err_free:
	free(m);
	return hmap_fail(ret);
}

void hmap_munmap(struct hmap_mapping *m)
{
	int err = errno;

	if (!m)
		return;
	munmap(m->addr, m->len);
	close(m->fd);
	free(m);
	errno = err;
}

/*
 * Counters of a mapping that threads may share: a relaxed load and store,
 * not an atomic add, so that a lookup costs no locked instruction. Threads
 * racing may lose counts, which the header says; no access is torn.
 */
static inline void hmap_stat_add(__u64 *c, __u64 n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline __u64 hmap_stat_read(const __u64 *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Adds what one call did to the mapping's statistics. */
static void hmap_mapped_count(struct hmap_mapping *m,
			      const struct libhmap_walk *w)
{
	/* The walk that ended the call, if any: see hmap_mapped_stats(). */
	hmap_stat_add(&m->stats.attempts, w->attempts - w->retries);
	if (w->retries)
		hmap_stat_add(&m->stats.retries, w->retries);
	hmap_stat_add(&m->stats.steps, w->steps);
	if (w->steps > hmap_stat_read(&m->stats.max_steps))
		__atomic_store_n(&m->stats.max_steps, w->steps,
				 __ATOMIC_RELAXED);
}

int hmap_mapped_lookup(struct hmap_mapping *m, const void *key, void *value,
		       __u64 *version)
{
	struct libhmap_walk w;
	__u64 ver = 0;
	int ret;

	if (!m)
		return hmap_fail(-EINVAL);
	/* The walk expands here: see mapped_walk.h. */
	ret = libhmap_lookup_inline(&m->view, key, value, version, &w);
	/* The common case, one walk, costs two counters and a compare. */
	hmap_stat_add(&m->stats.lookups, 1);
	hmap_stat_add(&m->stats.steps, w.steps);
	if (w.steps > hmap_stat_read(&m->stats.max_steps))
		__atomic_store_n(&m->stats.max_steps, w.steps, __ATOMIC_RELAXED);
	if (w.retries)
		hmap_stat_add(&m->stats.retries, w.retries);
	if (!ret)
		return 0;
	if (ret == -EAGAIN) {
		/* Writers kept every walk from completing: ask the kernel. */
		hmap_stat_add(&m->stats.fallbacks, 1);
		ret = hmap_lookup_version(m->fd, key, value, &ver);
		if (!ret && version)
			*version = ver;
	}
	return ret ? hmap_fail(ret) : 0;
}

void hmap_mapped_stats(const struct hmap_mapping *m,
		       struct hmap_mapped_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!m)
		return;
	st->lookups = hmap_stat_read(&m->stats.lookups);
	st->retries = hmap_stat_read(&m->stats.retries);
	st->fallbacks = hmap_stat_read(&m->stats.fallbacks);
	/*
	 * Walks are counted as retries, plus the walk that ended each call
	 * (none in a lookup that fell back: its every walk was a retry).
	 * Lookups leave that last one out of @attempts, to save a store.
	 */
	st->attempts = hmap_stat_read(&m->stats.attempts) + st->retries +
		       st->lookups - st->fallbacks;
	st->steps = hmap_stat_read(&m->stats.steps);
	st->max_steps = hmap_stat_read(&m->stats.max_steps);
}

__u32 hmap_mapped_buckets(const struct hmap_mapping *m)
{
	return m ? m->view.buckets : 0;
}

__u32 hmap_mapped_chain_max(const struct hmap_mapping *m)
{
	return m ? m->view.chain_max : 0;
}

int hmap_mapped_bucket(struct hmap_mapping *m, __u32 bucket, void *keys,
		       void *values, __u64 *versions, __u32 max,
		       __u32 *count)
{
	struct libhmap_walk w;
	int ret;

	if (!m) {
		if (count)
			*count = 0;
		return hmap_fail(-EINVAL);
	}
	ret = libhmap_view_bucket(&m->view, bucket, keys, values, versions,
				  max, count, &w);
	hmap_mapped_count(m, &w);
	return ret ? hmap_fail(ret) : 0;
}
