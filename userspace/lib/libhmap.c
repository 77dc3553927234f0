// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libhmap: one function per /dev/hmap command.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libhmap.h"

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

/* Issues a command on a fresh /dev/hmap fd. */
static int hmap_dev_ioctl(unsigned long cmd, void *arg)
{
	int fd, ret, err;

	fd = open(HMAP_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
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
