/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libhmap: a thin C wrapper over the /dev/hmap commands.
 *
 * One function per command. Each returns 0 (or a new fd, for the functions
 * that open one) on success, and a negative errno on failure, leaving errno
 * set to the same positive value, like libbpf. The kernel enforces every
 * rule; the library adds none of its own. The errors each command can
 * return are documented in <linux/hmap.h>.
 *
 * No module loaded: the functions that open /dev/hmap for their command
 * (hmap_create(), hmap_unpublish(), hmap_open_by_name(), hmap_open_by_id(),
 * hmap_get_next_id(), hmap_features(), and hmap_check_feature() without
 * features) return -ENODEV, with errno ENODEV, when /dev/hmap does not exist
 * or has no driver behind it (open(2) failing with ENOENT, ENXIO or
 * ENODEV). -ENOENT from them always comes from the command: no such name,
 * id or map. Other failures to open the device are returned as they are
 * (-EACCES: the device's mode does not let the caller open it).
 *
 * Versions: hmap_version() is this library's; hmap_features() tells the
 * loaded module's version and which commands and flags it supports, and
 * hmap_check_feature() why one is missing, for a program built against a
 * newer <linux/hmap.h> than the module (a module fails a command it does
 * not know with ENOTTY, a flag it does not know with EINVAL). The shared
 * library is libhmap.so.0 (its soname; the file libhmap.so.MAJOR.MINOR.PATCH)
 * and exports only the hmap_* functions, at symbol version LIBHMAP_0.1, and
 * those of the mapped reader (hmap_mmap() and after) at LIBHMAP_0.2.
 *
 * The library keeps no state of its own but in a struct hmap_mapping, which
 * belongs to whoever made it with hmap_mmap().
 */
#ifndef _LIBHMAP_H
#define _LIBHMAP_H

#include <sys/types.h>
#include <linux/hmap.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Path of the hmap device. */
#define HMAP_DEV_PATH "/dev/hmap"

/**
 * struct hmap_create_opts - optional parameters of hmap_create()
 * @sz: sizeof(struct hmap_create_opts), for forward compatibility
 * @capacity_hint: entries the map holds without resizing (0: start small)
 * @flags: HMAP_F_RDONLY for a read-only fd, HMAP_F_PREALLOC to allocate
 *	every entry at creation, HMAP_F_LRU to evict instead of refusing
 *	inserts when full, HMAP_F_TTL to allow times to live, HMAP_F_MMAP
 *	to allow lookups through a mapping (hmap_mmap())
 */
struct hmap_create_opts {
	size_t sz;
	__u32 capacity_hint;
	__u32 flags;
};

/**
 * hmap_create() - create a map
 * @name: label (up to 31 of [A-Za-z0-9_.-]), or NULL
 * @key_size: bytes per key
 * @value_size: bytes per value
 * @max_entries: most entries at once
 * @opts: optional parameters, or NULL
 *
 * Return: a map fd (close-on-exec), or a negative errno.
 */
int hmap_create(const char *name, __u32 key_size, __u32 value_size,
		__u32 max_entries, const struct hmap_create_opts *opts);

/**
 * hmap_lookup() - copy out the value of a key
 * @map_fd: map fd
 * @key: key_size bytes
 * @value: value_size bytes, written on success
 *
 * Return: 0, or a negative errno (-ENOENT: no such key).
 */
int hmap_lookup(int map_fd, const void *key, void *value);

/**
 * hmap_update() - create or replace an entry
 * @map_fd: writable map fd
 * @key: key_size bytes
 * @value: value_size bytes
 * @flags: HMAP_ANY, HMAP_NOEXIST or HMAP_EXIST
 *
 * Return: 0, or a negative errno.
 */
int hmap_update(int map_fd, const void *key, const void *value, __u64 flags);

/**
 * hmap_delete() - remove an entry
 * @map_fd: writable map fd
 * @key: key_size bytes
 *
 * Return: 0, or a negative errno (-ENOENT: no such key).
 */
int hmap_delete(int map_fd, const void *key);

/**
 * hmap_lookup_and_delete() - remove an entry, returning its value
 * @map_fd: writable map fd
 * @key: key_size bytes
 * @value: value_size bytes, written on success
 *
 * Return: 0, or a negative errno.
 */
int hmap_lookup_and_delete(int map_fd, const void *key, void *value);

/**
 * hmap_get_next_key() - the key after @key in iteration order
 * @map_fd: map fd
 * @key: key_size bytes, or NULL for the first key; need not be in the map
 * @next_key: key_size bytes, written on success
 *
 * Return: 0, or a negative errno (-ENOENT: no more keys).
 */
int hmap_get_next_key(int map_fd, const void *key, void *next_key);

/**
 * hmap_clear() - remove every entry
 * @map_fd: writable map fd
 *
 * Return: 0, or a negative errno.
 */
int hmap_clear(int map_fd);

/**
 * hmap_info() - describe a map
 * @map_fd: map fd
 * @info: filled in
 *
 * Return: 0, or a negative errno.
 */
int hmap_info(int map_fd, struct hmap_info *info);

/**
 * hmap_publish() - give a map a name others can open it by
 * @map_fd: writable map fd
 * @name: 1 to 31 of [A-Za-z0-9_.-]
 * @mode: permission bits, a subset of 0666
 *
 * Return: 0, or a negative errno.
 */
int hmap_publish(int map_fd, const char *name, mode_t mode);

/**
 * hmap_replace() - point a published name at this map instead, in one step
 * @map_fd: writable fd of a map that has no name yet
 * @name: a published name the caller may open for writing
 * @flags: 0, or HMAP_PUBLISH_ANY_SIZES to allow key and value sizes other
 *	than those of the map the name leaves
 *
 * HMAP_IOC_PUBLISH with HMAP_PUBLISH_REPLACE: the name keeps its owner,
 * group and mode. Opens of the name get the old map or this one, never
 * neither; fds already open keep the map they opened. The old map goes
 * away with its last fd.
 *
 * Return: 0, or a negative errno (-ENOENT: no such name; -EINVAL: the
 * sizes differ; -EBUSY: this map already has a name).
 */
int hmap_replace(int map_fd, const char *name, __u32 flags);

/**
 * hmap_publish_owner() - hmap_publish(), giving the name an owner and group
 * @map_fd: writable map fd
 * @name: 1 to 31 of [A-Za-z0-9_.-]
 * @mode: permission bits, a subset of 0666
 * @uid: the name's owner (in the caller's user namespace)
 * @gid: the name's group
 *
 * HMAP_IOC_PUBLISH with HMAP_PUBLISH_OWNER, as chown(2) on the name: needs
 * CAP_CHOWN. For restoring a saved map with the owner it had.
 *
 * Return: 0, or a negative errno (-EPERM: no CAP_CHOWN; -EINVAL: an
 * unmapped @uid or @gid).
 */
int hmap_publish_owner(int map_fd, const char *name, mode_t mode, uid_t uid,
		       gid_t gid);

/**
 * hmap_unpublish() - remove a published name
 * @name: the name
 *
 * Return: 0, or a negative errno.
 */
int hmap_unpublish(const char *name);

/**
 * hmap_open_by_name() - open a published map
 * @name: the name
 * @flags: HMAP_F_RDONLY or 0
 *
 * Return: a map fd (close-on-exec), or a negative errno.
 */
int hmap_open_by_name(const char *name, __u32 flags);

/**
 * hmap_open_by_id() - open a live map by id
 * @id: the map's id
 * @flags: HMAP_F_RDONLY or 0
 *
 * Return: a map fd (close-on-exec), or a negative errno.
 */
int hmap_open_by_id(__u32 id, __u32 flags);

/**
 * hmap_get_next_id() - the first live map id above @start_id
 * @start_id: 0 for the first
 * @next_id: written on success
 *
 * Return: 0, or a negative errno (-ENOENT: no more maps).
 */
int hmap_get_next_id(__u32 start_id, __u32 *next_id);

/**
 * hmap_lookup_batch() - copy out entries in iteration order
 * @map_fd: map fd
 * @in_cursor: key to continue after (need not exist), or NULL to start
 * @out_cursor: key_size bytes, written with the last key returned; may be
 *	the same buffer as @in_cursor
 * @keys: room for *@count keys
 * @values: room for *@count values
 * @count: in: room, at least 1; out: entries returned
 *
 * Return: 0 if more entries may follow, -ENOENT once the walk has reached
 * the end (*@count may still be non-zero), or another negative errno.
 */
int hmap_lookup_batch(int map_fd, const void *in_cursor, void *out_cursor,
		      void *keys, void *values, __u32 *count);

/**
 * hmap_lookup_and_delete_batch() - as hmap_lookup_batch(), removing them
 * @map_fd: writable map fd
 * @in_cursor: key to continue after, or NULL
 * @out_cursor: key_size bytes for the last key returned
 * @keys: room for *@count keys
 * @values: room for *@count values
 * @count: in: room; out: entries returned and removed
 *
 * Return: as hmap_lookup_batch().
 */
int hmap_lookup_and_delete_batch(int map_fd, const void *in_cursor,
				 void *out_cursor, void *keys, void *values,
				 __u32 *count);

/**
 * hmap_update_batch() - create or replace many entries
 * @map_fd: writable map fd
 * @keys: *@count keys, one after the other
 * @values: *@count values
 * @status: *@count results (0 or -errno), or NULL
 * @count: in: entries; out: entries attempted
 * @elem_flags: HMAP_ANY, HMAP_NOEXIST or HMAP_EXIST
 * @flags: HMAP_BATCH_CONTINUE to go on past failed entries
 *
 * Return: 0, or the first entry's error when the batch stopped there.
 */
int hmap_update_batch(int map_fd, const void *keys, const void *values,
		      __s32 *status, __u32 *count, __u64 elem_flags,
		      __u32 flags);

/**
 * hmap_delete_batch() - remove many entries
 * @map_fd: writable map fd
 * @keys: *@count keys
 * @status: *@count results, or NULL
 * @count: in: keys; out: keys attempted
 * @flags: HMAP_BATCH_CONTINUE to go on past absent keys
 *
 * Return: 0, or the first entry's error when the batch stopped there.
 */
int hmap_delete_batch(int map_fd, const void *keys, __s32 *status,
		      __u32 *count, __u32 flags);

/**
 * hmap_lookup_version() - copy out the value of a key and its version
 * @map_fd: map fd
 * @key: key_size bytes
 * @value: value_size bytes, written on success
 * @version: written with the value's version on success
 *
 * Pass the version to hmap_update_version() or hmap_delete_version() with
 * HMAP_IF_VERSION to change the entry only if nobody wrote it meanwhile.
 *
 * Return: 0, or a negative errno (-ENOENT: no such key).
 */
int hmap_lookup_version(int map_fd, const void *key, void *value,
			__u64 *version);

/**
 * hmap_update_version() - hmap_update(), maybe conditional on a version
 * @map_fd: writable map fd
 * @key: key_size bytes
 * @value: value_size bytes
 * @flags: HMAP_ANY, HMAP_NOEXIST or HMAP_EXIST, and maybe HMAP_IF_VERSION
 * @version: in, with HMAP_IF_VERSION: the version the entry must have;
 *	out: the entry's new version, or its current one on -EEXIST/-ESTALE
 *
 * Return: 0, or a negative errno (-ESTALE: the entry has another version).
 */
int hmap_update_version(int map_fd, const void *key, const void *value,
			__u64 flags, __u64 *version);

/**
 * hmap_delete_version() - remove an entry only if it has a version
 * @map_fd: writable map fd
 * @key: key_size bytes
 * @version: in: the version the entry must have; out on -ESTALE: its
 *	current one
 *
 * Return: 0, or a negative errno (-ENOENT, -ESTALE).
 */
int hmap_delete_version(int map_fd, const void *key, __u64 *version);

/**
 * hmap_add() - add to a 4- or 8-byte counter atomically
 * @map_fd: writable map fd
 * @key: key_size bytes
 * @delta: the amount to add (wraps around)
 * @flags: HMAP_ADD_CREATE to create an absent counter, or 0
 * @old_value: the value before, or NULL
 * @new_value: the value after, or NULL
 *
 * Return: 0, or a negative errno (-ENOENT: absent without
 * HMAP_ADD_CREATE; -EOPNOTSUPP: the values are not 4 or 8 bytes).
 */
int hmap_add(int map_fd, const void *key, __s64 delta, __u32 flags,
	     __u64 *old_value, __u64 *new_value);

/**
 * hmap_cmpxchg() - compare-and-swap a value
 * @map_fd: writable map fd
 * @key: key_size bytes
 * @expected: value_size bytes the entry must hold; on -ESTALE, written with
 *	the value it holds
 * @desired: value_size bytes to store
 * @version: the entry's new version (current on -ESTALE), or NULL
 *
 * Return: 0, or a negative errno (-ESTALE: another value; -ENOENT).
 */
int hmap_cmpxchg(int map_fd, const void *key, void *expected,
		 const void *desired, __u64 *version);

/**
 * hmap_lookup_multi() - look up many keys in one call
 * @map_fd: map fd
 * @keys: *@count keys, one after the other; they may repeat
 * @values: room for *@count values; an absent key's is zeroed
 * @status: *@count results: 0 or -ENOENT
 * @count: in: keys; out: keys looked up
 *
 * Return: 0 once every key is looked up, or a negative errno.
 */
int hmap_lookup_multi(int map_fd, const void *keys, void *values,
		      __s32 *status, __u32 *count);

/**
 * hmap_update_ttl() - hmap_update() with a time to live
 * @map_fd: writable fd of an HMAP_F_TTL map
 * @key: key_size bytes
 * @value: value_size bytes
 * @flags: HMAP_ANY, HMAP_NOEXIST or HMAP_EXIST
 * @ttl_ms: milliseconds of CLOCK_MONOTONIC until the entry is gone; 0 for
 *	never
 *
 * Return: 0, or a negative errno.
 */
int hmap_update_ttl(int map_fd, const void *key, const void *value,
		    __u64 flags, __u64 ttl_ms);

/**
 * hmap_add_ttl() - hmap_add(), giving an entry it creates a time to live
 * @map_fd: writable fd of an HMAP_F_TTL map
 * @key: key_size bytes
 * @delta: the amount to add
 * @flags: HMAP_ADD_CREATE or 0
 * @ttl_ms: time to live of an entry this creates (an existing one keeps
 *	its own), or 0
 * @old_value: the value before, or NULL
 * @new_value: the value after, or NULL
 *
 * A fixed-window rate limiter: the first request of a window creates the
 * counter with the window as its time to live.
 *
 * Return: 0, or a negative errno.
 */
int hmap_add_ttl(int map_fd, const void *key, __s64 delta, __u32 flags,
		 __u64 ttl_ms, __u64 *old_value, __u64 *new_value);

/**
 * hmap_watch() - open a change stream of a map
 * @map_fd: map fd (read-only is enough)
 * @flags: HMAP_WATCH_VALUES, HMAP_WATCH_NONBLOCK, or 0
 * @buf_bytes: the watch's buffer in bytes, or 0 for
 *	HMAP_WATCH_DEFAULT_BYTES
 * @seq: written with the sequence number of the last change before the
 *	watch began, or NULL
 *
 * Read the records with hmap_watch_read() and walk them with
 * hmap_event_next(); poll() and epoll report the fd readable while records
 * wait. Close the fd to end the watch.
 *
 * Return: a watch fd (close-on-exec), or a negative errno.
 */
int hmap_watch(int map_fd, __u32 flags, __u32 buf_bytes, __u64 *seq);

/**
 * hmap_watch_read() - read whole change records from a watch fd
 * @watch_fd: fd from hmap_watch()
 * @buf: room for records, 8-byte aligned
 * @len: bytes of room: at least the largest record of the map
 *
 * Blocks until a record is there, unless the fd is non-blocking.
 *
 * Return: bytes read, records one after the other, or a negative errno
 * (-EAGAIN: none yet on a non-blocking fd; -EINTR: a signal; -EINVAL: the
 * next record does not fit in @len).
 */
ssize_t hmap_watch_read(int watch_fd, void *buf, size_t len);

/**
 * hmap_event_next() - walk the records of one hmap_watch_read()
 * @buf: the buffer read into
 * @len: bytes hmap_watch_read() returned
 * @prev: the record before, or NULL for the first
 *
 * A record whose &hmap_event.len is shorter than its header, not a
 * multiple of 8, shorter than its key and value, or beyond @len ends the
 * walk.
 *
 * Return: the next record, or NULL at the end or at a malformed record.
 */
const struct hmap_event *hmap_event_next(const void *buf, size_t len,
					 const struct hmap_event *prev);

/**
 * hmap_event_key() - the key of a change record
 * @ev: the record
 *
 * Return: &hmap_event.key_size bytes of key.
 */
static inline const void *hmap_event_key(const struct hmap_event *ev)
{
	return (const unsigned char *)ev + sizeof(*ev);
}

/**
 * hmap_event_value() - the value of a change record
 * @ev: the record
 *
 * Return: &hmap_event.value_size bytes of value, after the key.
 */
static inline const void *hmap_event_value(const struct hmap_event *ev)
{
	return (const unsigned char *)ev + sizeof(*ev) + ev->key_size;
}

/**
 * hmap_version() - this library's version
 *
 * Return: "MAJOR.MINOR.PATCH", as the shared library's file name has it
 * (libhmap.so.MAJOR.MINOR.PATCH); a static string.
 */
const char *hmap_version(void);

/**
 * hmap_features() - what the loaded module supports (HMAP_IOC_FEATURES)
 * @f: filled in: the module's version (HMAP_VERSION(major, minor, patch)),
 *	the commands it knows (bit N - HMAP_CMD_BASE for HMAP_CMD_N) and the
 *	flags each command accepts; zeroed on failure
 *
 * A module older than HMAP_IOC_FEATURES (it answers ENOTTY) is not an
 * error: @f->version is then 0, which no module reports (versions start
 * at 0.1.0), and the rest describes the last module without the command:
 * the commands HMAP_CMD_CREATE to HMAP_CMD_WATCH and the flags they took
 * then (every flag <linux/hmap.h> defined for them at 0.1.0). An even older
 * module may lack some of those; its ENOTTY or EINVAL still says so.
 *
 * Return: 0 (check @f->version for 0: a module older than 0.1.0), or a
 * negative errno (-ENODEV: no module loaded, see above).
 */
int hmap_features(struct hmap_features *f);

/**
 * hmap_check_feature() - whether the loaded module has a command and flags
 * @f: from hmap_features(), or NULL to ask the module now
 * @cmd: the command: HMAP_CMD_* or its HMAP_IOC_* ioctl number
 * @flags: the flags to be given to it, in the struct's flags field
 *	(&hmap_create.flags, &hmap_elem_op.flags, &hmap_batch.flags...); 0
 *	for none. For commands that take no flags, any bit is missing.
 * @why: filled with a sentence saying what is missing, e.g. "the loaded
 *	hmap module (0.1.0) does not support HMAP_F_TTL", or "the loaded hmap
 *	module (older than 0.1.0) does not support HMAP_IOC_FEATURES"; an
 *	empty string when nothing is; may be NULL
 * @len: bytes of @why; the sentence is cut to fit, NUL-terminated
 *
 * For a program that wants to say why a command failed with ENOTTY or
 * EINVAL, or to check before it relies on a command or flag. Only the
 * lowest missing flag is named.
 *
 * Return: 0 if the module knows @cmd and accepts every flag of @flags;
 * -EOPNOTSUPP if not (@why says which); -EINVAL if @cmd is not an hmap
 * command number; or, with @f NULL, hmap_features()'s negative errno
 * (@why then says that the device is missing or cannot be opened).
 */
int hmap_check_feature(const struct hmap_features *f, unsigned int cmd,
		       __u64 flags, char *why, size_t len);

/*
 * Lookups without a system call (HMAP_F_MMAP maps, symbol version
 * LIBHMAP_0.2).
 *
 * hmap_mmap() maps the map's image read-only; hmap_mapped_lookup() then
 * searches it in the caller's own memory, the way the kernel's LOOKUP
 * searches the table, and checks every copy it makes against the slot's
 * sequence count, which the kernel changes around every write.
 *
 * What a reader observes is what HMAP_IOC_LOOKUP gives: the call takes
 * effect at one instant between its start and its return. It returns the
 * value and version the entry had at that instant, never a mix of two
 * writes, or -ENOENT if the key was absent then; a write that completed
 * before the call began is seen. The buffer @value may be written even
 * when the call returns -ENOENT or an error.
 *
 * A walk of the key's chain that a writer disturbs (a slot it was reading
 * changed, or it was carried into another chain) starts again from the
 * bucket head. After HMAP_MAPPED_TRIES walks the call gives up on the
 * mapping and issues HMAP_IOC_LOOKUP on its own duplicate of the map fd,
 * whose answer it returns: so a lookup always ends, and takes at most
 * HMAP_MAPPED_TRIES * chain_max slot visits (chain_max, a field of the
 * image's header, is 16 today), plus one system call.
 *
 * A mapping may be shared by threads for lookups (hmap_mapped_lookup(),
 * hmap_mapped_bucket()), which then update its statistics without
 * synchronising: the counts are then approximate, and the threads share
 * the cache line they are in, so a hot path is fastest with a mapping per
 * thread. hmap_munmap() must not run with any other call on the mapping.
 * A mapping survives fork(); it holds the map as an open fd does.
 */

/**
 * define HMAP_MAPPED_TRIES - walks of a chain before a lookup asks the kernel
 */
#define HMAP_MAPPED_TRIES	8

/** struct hmap_mapping - a map's image mapped by hmap_mmap(); opaque */
struct hmap_mapping;

/**
 * hmap_mmap() - map an HMAP_F_MMAP map for lookups without a system call
 * @map_fd: map fd (read-only is enough); the caller may close it
 *	afterwards: the mapping keeps a duplicate (close-on-exec) of its own
 * @out: written with the mapping on success, NULL on failure
 *
 * Maps the whole image (&hmap_info.mmap_bytes) read-only and checks its
 * header completely before anything reads on: magic, layout, hash, sizes
 * and every offset against the mapping's size.
 *
 * Return: 0, or a negative errno: -ENODEV (the map was not created with
 * HMAP_F_MMAP, or the module predates it); -EPROTO (an image this library
 * cannot read: a layout or hash it does not know, or sizes that do not
 * agree with HMAP_IOC_INFO's); -ENOMEM; those of HMAP_IOC_INFO, fcntl(2)
 * and mmap(2).
 */
int hmap_mmap(int map_fd, struct hmap_mapping **out);

/**
 * hmap_munmap() - undo hmap_mmap()
 * @m: the mapping, or NULL
 *
 * Unmaps the image and closes the mapping's fd; the map goes away if
 * nothing else holds it. Leaves errno alone.
 */
void hmap_munmap(struct hmap_mapping *m);

/**
 * hmap_mapped_lookup() - hmap_lookup_version() through the mapping
 * @m: the mapping
 * @key: key_size bytes
 * @value: value_size bytes, written on success; may be written on failure
 * @version: written with the value's version on success; may be NULL
 *
 * See above for what the call observes and when it falls back to
 * HMAP_IOC_LOOKUP.
 *
 * Return: 0, -ENOENT (no such key), or the fallback's negative errno
 * (-EINVAL: @m is NULL).
 */
int hmap_mapped_lookup(struct hmap_mapping *m, const void *key, void *value,
		       __u64 *version);

/**
 * struct hmap_mapped_stats - what the lookups of a mapping did
 * @lookups: hmap_mapped_lookup() calls
 * @attempts: walks of a chain started, by lookups and hmap_mapped_bucket()
 * @retries: walks abandoned because a writer disturbed them
 * @fallbacks: lookups that gave up on the mapping and used HMAP_IOC_LOOKUP
 * @steps: slots visited
 * @max_steps: most slots one call visited, over all its walks: at most
 *	HMAP_MAPPED_TRIES * chain_max
 */
struct hmap_mapped_stats {
	__u64 lookups;
	__u64 attempts;
	__u64 retries;
	__u64 fallbacks;
	__u64 steps;
	__u64 max_steps;
};

/**
 * hmap_mapped_stats() - read a mapping's statistics
 * @m: the mapping
 * @st: filled in (zeroed if @m is NULL)
 *
 * Counted since hmap_mmap(); approximate if threads share the mapping.
 */
void hmap_mapped_stats(const struct hmap_mapping *m,
		       struct hmap_mapped_stats *st);

/**
 * hmap_mapped_buckets() - the number of chains of a mapping's image
 * @m: the mapping
 *
 * Return: the bucket count, a power of two: the buckets of
 * hmap_mapped_bucket() are 0 to this minus one. 0 if @m is NULL.
 */
__u32 hmap_mapped_buckets(const struct hmap_mapping *m);

/**
 * hmap_mapped_chain_max() - the most entries one chain holds
 * @m: the mapping
 *
 * Return: &hmap_mmap_header.chain_max: room for this many entries is
 * always enough for hmap_mapped_bucket(). 0 if @m is NULL.
 */
__u32 hmap_mapped_chain_max(const struct hmap_mapping *m);

/**
 * hmap_mapped_bucket() - copy out one chain of the image
 * @m: the mapping
 * @bucket: 0 to hmap_mapped_buckets() - 1
 * @keys: room for @max keys
 * @values: room for @max values, or NULL
 * @versions: room for @max versions, or NULL
 * @max: the room; hmap_mapped_chain_max() is always enough
 * @count: written with the entries copied (0 on failure)
 *
 * One walk of the chain in which every slot was read whole (its count
 * unchanged around the copy) and which ended at the chain's own end; a
 * walk a writer disturbed starts again, HMAP_MAPPED_TRIES times at most.
 * Each entry copied was in the chain, with that value and version, at
 * some instant of the call; an entry in the chain for the whole call is
 * copied; no key is copied twice. A key's bucket never changes (the image
 * never resizes), so a walk of every bucket sees every entry present
 * throughout it once, and no key twice: a dump, though no snapshot of one
 * instant. No system call is made.
 *
 * Return: 0; -EAGAIN (writers kept changing the chain: try again later);
 * -ENOSPC (the chain held more than @max entries); -EINVAL (@m, @keys or
 * @count NULL, @bucket out of range).
 */
int hmap_mapped_bucket(struct hmap_mapping *m, __u32 bucket, void *keys,
		       void *values, __u64 *versions, __u32 max,
		       __u32 *count);

#ifdef __cplusplus
}
#endif

#endif /* _LIBHMAP_H */
