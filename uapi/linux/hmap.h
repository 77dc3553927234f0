/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hmap: kernel-resident hash maps shared between processes through /dev/hmap.
 *
 * This header is the whole contract between the module and userspace. Every
 * type has a fixed width, every pointer travels as a __u64, and every padding
 * byte is named so that it can be required to be zero. Fields never change
 * once they have shipped; new ones are only ever appended.
 *
 * Commands are ioctls. Those marked "on /dev/hmap" are issued on an fd of the
 * device; those marked "on a map fd" on an fd returned by HMAP_IOC_CREATE,
 * HMAP_IOC_OPEN_BY_NAME or HMAP_IOC_OPEN_BY_ID. Every argument is a struct
 * whose first member, @size, is set by the caller to sizeof() the struct it
 * was built with. The kernel reads it like openat2(2) and clone3(2) do: a
 * smaller (older) struct is zero-extended, a larger (newer) one is accepted
 * only if every byte the kernel does not know is zero.
 *
 * Errors every command can return:
 *
 * - EFAULT: the argument, or a key/value buffer it points to, is not
 *   accessible.
 * - EINVAL: @size is smaller than the first published version of the
 *   struct; an unknown flag is set; a reserved field or padding is non-zero.
 * - E2BIG: @size is larger than the kernel knows and the extra bytes are not
 *   all zero; or @size is larger than the page size (4096 on x86), whatever
 *   the extra bytes hold, so that no caller can make the kernel scan an
 *   arbitrarily long tail for zeros.
 * - EBADFD: a map command on /dev/hmap itself, or a device command on a map
 *   fd (checked before the argument is read).
 * - ENOMEM: the kernel could not allocate the command's own buffer: the
 *   bounce buffer of a key and value over 256 bytes together, or a batch's.
 * - ENOTTY: an ioctl number hmap does not know.
 *
 * Each command lists the errors it adds. One of them has a single meaning
 * across all commands: ESTALE ("Stale file handle" to strerror()) means
 * that the condition of a conditional command failed: the entry's version
 * (HMAP_IF_VERSION) or value (HMAP_IOC_CMPXCHG) is no longer the one the
 * caller expected. No other path returns it, so a caller can tell a lost
 * race from any other failure.
 *
 * Limits. The module's parameters bound what all users together may hold
 * (max_maps, max_bytes) and what the maps one user created may hold
 * (max_maps_per_user, max_bytes_per_user), wherever their writers come
 * from: a user is the creator's fsuid, or, for a creator inside a user
 * namespace, the owner of the outermost namespace (the uids a namespace
 * maps all belong to whoever made it); maps created by a task with
 * CAP_SYS_RESOURCE are exempt from the per-user limits. A map counts from
 * its creation until it is freed, a grace period after its last fd and
 * name are gone; memory from its allocation until it is freed, a grace
 * period after a delete.
 *
 * Namespaces. Published names and map ids belong to an IPC namespace, as
 * POSIX message queues do: a map's ids and its name live in the IPC
 * namespace it was created in, and a caller in another one can neither
 * open, list nor name it, so containers on one host do not see each
 * other's maps. When an IPC namespace ends, its names go with it (about a
 * second later, or at the next wakeup of an idle machine); maps still
 * open by fd live on until their last fd closes.
 * Capabilities that commands check (CAP_SYS_ADMIN, CAP_DAC_OVERRIDE,
 * CAP_CHOWN) count in the user namespace that owns the caller's IPC
 * namespace, over maps and names whose owner and group are mapped in the
 * caller's user namespace, so a container's root administers its own maps
 * and nobody else's, and the host's root every map it can reach; the
 * per-user limits and CAP_SYS_RESOURCE's exemption from them are the
 * initial namespace's, since all containers share the host's memory. Uids
 * and gids the commands return are in the caller's user namespace
 * (65534 when unmapped). Ids are drawn from one counter for all
 * namespaces: a container can tell from the gaps between its own ids how
 * many maps were made elsewhere, never which. A kernel without
 * CONFIG_POSIX_MQUEUE has one namespace for all callers, with
 * capabilities counted in the initial user namespace.
 */
#ifndef _UAPI_LINUX_HMAP_H
#define _UAPI_LINUX_HMAP_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * define HMAP_MAX_KEY_SIZE - largest key, in bytes, a map may be created with
 *
 * Keys are hashed and compared on every operation and are bounced through
 * the kernel stack, so they are kept small, as BPF does (MAX_BPF_STACK).
 */
#define HMAP_MAX_KEY_SIZE	512

/**
 * define HMAP_MAX_VALUE_SIZE - largest value, in bytes, a map may be created with
 */
#define HMAP_MAX_VALUE_SIZE	65536

/**
 * define HMAP_MAX_ENTRIES - largest max_entries a map may be created with
 */
#define HMAP_MAX_ENTRIES	_BITUL(28)

/**
 * define HMAP_NAME_LEN - size of a name buffer, including the terminating NUL
 *
 * Names are 1 to 31 ASCII characters from [A-Za-z0-9_.-], NUL-terminated,
 * with every byte after the NUL zero. A map's label (HMAP_IOC_CREATE) may also be
 * empty.
 */
#define HMAP_NAME_LEN		32

/*
 * Update modes, in &hmap_elem_op.flags of HMAP_IOC_UPDATE. At most one of
 * NOEXIST and EXIST may be given; ANY is the absence of both. IF_VERSION may
 * be added to ANY or EXIST.
 */

/** define HMAP_ANY - create the entry or replace its value */
#define HMAP_ANY		0
/** define HMAP_NOEXIST - create the entry only if the key is absent, else EEXIST */
#define HMAP_NOEXIST		_BITULL(0)
/** define HMAP_EXIST - replace the value only if the key is present, else ENOENT */
#define HMAP_EXIST		_BITULL(1)
/**
 * define HMAP_IF_VERSION - the entry must exist and still have &hmap_elem_op.version
 *
 * For HMAP_IOC_UPDATE and HMAP_IOC_DELETE: a compare-and-swap by version,
 * as memcached's gets/cas. Read an entry's version with HMAP_IOC_LOOKUP,
 * then change or remove it only if no write came in between. If the key
 * is absent the command fails with ENOENT; if it has another version, with
 * ESTALE, and its current version is written back to @version.
 */
#define HMAP_IF_VERSION		_BITULL(2)

/**
 * define HMAP_F_RDONLY - the new map fd is read only
 *
 * In &hmap_create.flags, &hmap_open_by_name.flags and &hmap_open_by_id.flags.
 * Commands that change a map (UPDATE, DELETE, LOOKUP_AND_DELETE, ADD,
 * CMPXCHG, the batches that change entries, CLEAR, PUBLISH) fail on a
 * read-only fd with EPERM.
 */
#define HMAP_F_RDONLY		0x1U

/**
 * define HMAP_F_PREALLOC - allocate every element when the map is created
 *
 * In &hmap_create.flags. The map takes one pool of max_entries elements plus
 * spares (as many as max_entries, and at least 64 KiB of elements, but at
 * most 1024; plus one per possible CPU) and a bucket array for
 * max_entries at creation, charged to the creator's memory cgroup, the
 * module's max_bytes and the creator's max_bytes_per_user at once. The
 * table never resizes and CLEAR keeps it, so inserts never allocate map
 * memory and never fail with EDQUOT, nor with ENOMEM but for the command's
 * own bounce buffer (see above); a deleted element returns to the pool a
 * grace period after its delete, and an insert that finds the pool empty
 * waits for that (killably: a fatal signal ends it with EINTR). Without
 * the flag, elements come from a slab cache of their exact size as they
 * are inserted, and the bucket array is allocated by the first insert and
 * grows and shrinks with the map.
 *
 * Either way an element is a 32-byte header (chain link, hash, last use,
 * version), the key rounded up to 8 bytes, then the value rounded up to 8
 * bytes, then in an HMAP_F_TTL map an 8-byte deadline; the bucket array
 * adds 8 bytes per bucket, with at most one entry per bucket on average
 * before it grows.
 */
#define HMAP_F_PREALLOC		0x2U

/**
 * define HMAP_F_LRU - when full, evict an entry used long ago instead of failing
 *
 * In &hmap_create.flags. An insert into a map that holds max_entries
 * succeeds, and removes an entry that was, approximately, the least
 * recently used, as a BPF LRU_HASH map does: it compares the last use of a
 * sample of entries (16, from a random place in the table) and removes the
 * oldest. A use is a LOOKUP or LOOKUP_MULTI that finds the entry, or any
 * write of it. Lookups mark the use without a lock, and with no extra byte
 * per entry. UPDATE, ADD and the batches then never fail with E2BIG; the
 * count may exceed max_entries for a moment, by the inserts in flight
 * (each insert into a full map evicts until the map is back at its limit).
 * Evictions are counted (&hmap_info.evictions, fdinfo "evictions").
 * Combines with HMAP_F_PREALLOC.
 */
#define HMAP_F_LRU		0x4U

/**
 * define HMAP_F_TTL - entries may be given a time to live
 *
 * In &hmap_create.flags. UPDATE (&hmap_elem_op.ttl_ms) and an ADD that
 * creates its entry (&hmap_add.ttl_ms) may give the entry a time to live
 * in milliseconds of CLOCK_MONOTONIC (so it does not count time suspended
 * and ignores changes of the wall clock). Once it has passed the entry is
 * gone for every command at once: lookups, iteration and batches skip it,
 * writes find it absent. Its memory comes back when a write or delete of
 * its key meets it (the delete still answers ENOENT), or when the map's
 * sweep does: one work item per map, never a timer per entry, that sleeps
 * until the earliest deadline it knows of, then goes over the table 4096
 * buckets every 100 ms. Until then the entry still counts in
 * &hmap_info.count, the map's memory and against max_entries (so a full
 * map may refuse an insert with E2BIG until the sweep has passed), and an
 * HMAP_F_LRU map evicts it first among the entries it samples. UPDATE_BATCH
 * sets no deadline: the entries it writes do not expire. Expirations are counted
 * (&hmap_info.expirations, fdinfo "expirations"). Each entry of such a map
 * is 8 bytes larger, for its deadline. A plain replace (UPDATE) sets the
 * deadline anew, 0 meaning none; ADD and CMPXCHG on a live entry keep it.
 */
#define HMAP_F_TTL		0x8U

/**
 * define HMAP_MAX_TTL_MS - longest time to live, in milliseconds (about 35 years)
 */
#define HMAP_MAX_TTL_MS		_BITULL(40)

/**
 * define HMAP_F_MMAP - readers may map the map and look up without a system call
 *
 * In &hmap_create.flags. Besides its table, the map keeps an image of its
 * entries in memory that mmap(2) of a map fd maps read-only (see struct
 * hmap_mmap_header for the layout, and hmap_mapped_lookup() in libhmap for
 * the reader). The flag implies HMAP_F_PREALLOC: the image is allocated
 * whole at creation, for the pool's elements (max_entries and the spares),
 * and never resizes; it is charged like the pool (memory cgroup,
 * max_bytes, max_bytes_per_user), so such a map takes about twice the
 * memory of a plain prealloc map. HMAP_F_LRU and HMAP_F_TTL do not combine
 * with it (EINVAL): a lookup through the mapping could neither mark a use
 * nor be trusted to honour a deadline.
 *
 * Every change still goes through the commands and their locks; the kernel
 * writes the image under the same bucket lock as the table, so the image
 * holds exactly the table's entries. A slot of the image is reused only
 * for another entry of the same map, and its sequence count changes around
 * every write of it, so a reader can always tell a copy it must not trust.
 *
 * The image holds the map's per-map hash seed, so whoever may read the map
 * can compute which keys collide. So that nobody can use that to make a
 * chain long, a chain holds at most &hmap_mmap_header.chain_max entries: an
 * insert of a key whose chain is full fails with EMLINK (UPDATE, ADD,
 * UPDATE_BATCH), leaving the map as it was. A writer can therefore keep
 * other keys out of one chain, but no more than it could by filling the
 * map; no command and no reader ever walks more than chain_max entries.
 * With random keys (the table has two buckets per entry) a chain is this
 * full about once in 10^18 buckets.
 */
#define HMAP_F_MMAP		0x10U

/** define HMAP_MMAP_MAGIC - &hmap_mmap_header.magic, "HMAP" in a little-endian word */
#define HMAP_MMAP_MAGIC		0x50414d48U
/** define HMAP_MMAP_LAYOUT - &hmap_mmap_header.layout described here */
#define HMAP_MMAP_LAYOUT	1
/**
 * define HMAP_MMAP_HASH_JHASH - &hmap_mmap_header.hash for the kernel's jhash()
 *
 * Bob Jenkins' lookup3 as include/linux/jhash.h has it, seeded with
 * &hmap_mmap_header.seed: jhash(key, key_size, seed), where 4- and 8-byte
 * keys are read as native-endian 32-bit words (jhash_1word(),
 * jhash_2words()), which on a little-endian machine gives the same hash.
 */
#define HMAP_MMAP_HASH_JHASH	1
/**
 * define HMAP_MMAP_NULLS - end of a chain, or'ed with the chain's bucket
 *
 * A bucket head and &hmap_mmap_slot.next hold either a slot index (below
 * &hmap_mmap_header.slots) or HMAP_MMAP_NULLS | bucket. A walk that ends
 * on another bucket's end was carried into another chain by a concurrent
 * writer and must start again.
 */
#define HMAP_MMAP_NULLS		0x80000000U

/**
 * struct hmap_mmap_header - what mmap() of an HMAP_F_MMAP map fd shows first
 * @magic: HMAP_MMAP_MAGIC
 * @layout: HMAP_MMAP_LAYOUT; a reader that does not know it must not read on
 * @header_size: sizeof(struct hmap_mmap_header) of the kernel; fields are
 *	only ever appended
 * @hash: HMAP_MMAP_HASH_JHASH
 * @seed: the map's hash seed
 * @key_size: bytes per key
 * @value_size: bytes per value
 * @value_off: offset of the value in &hmap_mmap_slot.data (the key is at 0)
 * @slot_size: bytes per slot, a multiple of 8
 * @chain_max: most entries a chain holds (see HMAP_F_MMAP)
 * @buckets: number of bucket heads, a power of two; a key's bucket is its
 *	hash & (@buckets - 1)
 * @slots: number of slots
 * @buckets_off: offset from the start of the mapping of the bucket heads,
 *	@buckets __u32s
 * @slots_off: offset of slot 0; slot i is at @slots_off + i * @slot_size
 * @mmap_bytes: size of the whole image, a multiple of the page size; the
 *	most a mapping may cover (offset 0 to @mmap_bytes)
 *
 * Immutable for the map's life. Every offset, count and size a reader uses
 * comes from here and is bounded by @mmap_bytes, and nothing in the image
 * is a kernel address or belongs to anything but this map.
 *
 * mmap() takes PROT_READ only, MAP_SHARED or MAP_PRIVATE, on any map fd
 * (read-only ones too), with offset and length within @mmap_bytes.
 * PROT_WRITE fails with EPERM, as does a later mprotect(2) to writable
 * (EACCES from mprotect); a map without HMAP_F_MMAP fails with ENODEV; an
 * offset or length beyond the image with EINVAL. A mapping holds its map
 * as an open fd does, across close(), fork() and exec-less children; the
 * map goes away with its last fd, name and mapping. A process whose
 * PROT_READ mappings are made executable (READ_IMPLIES_EXEC) cannot map
 * it. On a CPU with an aliasing data cache, CREATE refuses HMAP_F_MMAP
 * with EOPNOTSUPP.
 */
struct hmap_mmap_header {
	__u32 magic;
	__u32 layout;
	__u32 header_size;
	__u32 hash;
	__u32 seed;
	__u32 key_size;
	__u32 value_size;
	__u32 value_off;
	__u32 slot_size;
	__u32 chain_max;
	__u32 buckets;
	__u32 slots;
	__u64 buckets_off;
	__u64 slots_off;
	__u64 mmap_bytes;
};

/**
 * struct hmap_mmap_slot - one entry of the image
 * @seq: the entry's version (as HMAP_IOC_LOOKUP returns it) shifted left
 *	by one, with bit 0 set while the kernel writes the slot; 0 for a slot
 *	never used. It changes around every write of the slot: a new value,
 *	and the reuse of the slot for another entry.
 * @next: the next slot of the chain, or HMAP_MMAP_NULLS | bucket
 * @hash: the key's hash
 * @data: the key, then the value at &hmap_mmap_header.value_off
 *
 * A reader loads @seq (acquire), skips the slot if it is odd, reads @hash,
 * @next, the key and maybe the value, then loads @seq again after a read
 * barrier: if it changed, nothing it read of the slot is to be trusted and
 * the lookup starts again. A slot taken out of its chain keeps @next until
 * it is reused, so a reader standing on it walks on to a chain's end.
 */
struct hmap_mmap_slot {
	__u64 seq;
	__u32 next;
	__u32 hash;
	__u8 data[];
};

/**
 * struct hmap_create - HMAP_IOC_CREATE: make a new map (on /dev/hmap)
 * @size: sizeof(struct hmap_create)
 * @flags: HMAP_F_RDONLY, HMAP_F_PREALLOC, HMAP_F_LRU, HMAP_F_TTL,
 *	HMAP_F_MMAP, or 0
 * @key_size: bytes per key, 1 to HMAP_MAX_KEY_SIZE
 * @value_size: bytes per value, 1 to HMAP_MAX_VALUE_SIZE
 * @max_entries: most entries at once, 1 to HMAP_MAX_ENTRIES; an insert
 *	beyond it fails with E2BIG (HMAP_F_LRU: evicts an entry)
 * @capacity_hint: entries the map holds without ever resizing its table
 *	(0: start small), at most @max_entries
 * @name: optional label shown by INFO, fdinfo and listings; need not be
 *	unique. Empty, or a name as described at HMAP_NAME_LEN.
 *
 * Returns a new map fd (close-on-exec). The map lives as long as an fd or a
 * published name refers to it; its memory is charged to the creator's memory
 * cgroup.
 *
 * Errors: EINVAL (a size or limit out of range, a bad label, HMAP_F_MMAP
 * with HMAP_F_LRU or HMAP_F_TTL); ENOSPC (the
 * module's max_maps limit is reached); EDQUOT (the caller's
 * max_maps_per_user is reached, or a HMAP_F_PREALLOC map would take the
 * caller beyond max_bytes_per_user); ENOMEM (also: a HMAP_F_PREALLOC map
 * would take the module beyond max_bytes); EMFILE/ENFILE (no fd left).
 */
struct hmap_create {
	__u32 size;
	__u32 flags;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 capacity_hint;
	char name[HMAP_NAME_LEN];
};

/**
 * struct hmap_elem_op - one entry: LOOKUP, UPDATE, DELETE, LOOKUP_AND_DELETE
 * @size: sizeof(struct hmap_elem_op)
 * @__reserved: must be 0
 * @flags: for UPDATE, HMAP_ANY, HMAP_NOEXIST or HMAP_EXIST, and maybe
 *	HMAP_IF_VERSION; for DELETE, 0 or HMAP_IF_VERSION; else 0
 * @key: user pointer to key_size bytes
 * @value: user pointer to value_size bytes: read by UPDATE, written by
 *	LOOKUP and LOOKUP_AND_DELETE; must be 0 for DELETE
 * @version: the entry's version. Every entry has one, a 64-bit number
 *	that every write of the entry replaces with one never used before in
 *	the map (never 0): it tells whether an entry changed, even if a key
 *	was deleted and created again. In, with HMAP_IF_VERSION: the version
 *	the entry must have. Out, if @size covers it: LOOKUP writes the
 *	version of the value it returns; UPDATE the entry's new version, or
 *	its current one on EEXIST and ESTALE; DELETE the current one on
 *	ESTALE. Callers built before @version pay nothing for it.
 * @ttl_ms: UPDATE in an HMAP_F_TTL map: the entry's time to live in
 *	milliseconds, 1 to HMAP_MAX_TTL_MS, or 0 for none; else 0
 *
 * HMAP_IOC_LOOKUP (on a map fd): copy out the value of @key. It takes no
 * lock, unless writers keep replacing that very value: then, after a few
 * tries, it waits for them on the entry's lock rather than spin.
 * Errors: ENOENT (no such key).
 *
 * HMAP_IOC_UPDATE (on a writable map fd): create or replace an entry.
 * A concurrent LOOKUP sees the old value or the new one, never a mix.
 * Errors: EEXIST (NOEXIST, key present); ENOENT (EXIST, key absent, also in
 * an empty map); E2BIG (the map holds max_entries); ENOMEM (allocation
 * failed, or the module's max_bytes limit is reached, also for a larger
 * bucket array: past two entries per bucket a map that cannot grow its
 * table takes no more keys); EDQUOT (the map's creator is at
 * max_bytes_per_user); EINTR (HMAP_F_PREALLOC: a fatal signal ended the
 * wait for a free element); EPERM (read-only fd); EMLINK (HMAP_F_MMAP:
 * the new key's chain holds &hmap_mmap_header.chain_max entries). A
 * HMAP_F_PREALLOC map never returns EDQUOT, nor ENOMEM but for the bounce
 * buffer.
 *
 * Also EINVAL (@ttl_ms in a map without HMAP_F_TTL, or above
 * HMAP_MAX_TTL_MS).
 *
 * With HMAP_IF_VERSION: only if the entry exists with version @version.
 * Errors: also ENOENT (absent); ESTALE (another version); EINVAL (@size
 * does not cover @version).
 *
 * HMAP_IOC_DELETE (on a writable map fd): remove an entry; with
 * HMAP_IF_VERSION, only if it has version @version.
 * Errors: ENOENT; ESTALE (HMAP_IF_VERSION: another version); EINVAL
 * (HMAP_IF_VERSION and @size does not cover @version); EPERM (read-only
 * fd).
 *
 * HMAP_IOC_LOOKUP_AND_DELETE (on a writable map fd): remove an entry and
 * copy out the value it held when it was removed. The value is copied out
 * first and the entry removed only if it still holds that value (else it
 * is copied again), so an EFAULT, even from another thread unmapping
 * @value during the call, leaves the entry in the map.
 * Errors: ENOENT (also if another caller removed the entry during the call:
 * @value may then have been written); EINTR (a signal arrived while
 * writers kept replacing the value); EPERM (read-only fd).
 *
 * On any error the map is unchanged, but for an expired entry a command
 * met (HMAP_F_TTL): it answers as if the entry were absent, and may remove
 * it then.
 */
struct hmap_elem_op {
	__u32 size;
	__u32 __reserved;
	__u64 flags;
	__u64 key;
	__u64 value;
	__u64 version;
	__u64 ttl_ms;
};

/**
 * struct hmap_get_next_key - HMAP_IOC_GET_NEXT_KEY: iterate (on a map fd)
 * @size: sizeof(struct hmap_get_next_key)
 * @flags: must be 0
 * @key: user pointer to the key to continue from, or 0 for the first key
 * @next_key: user pointer to key_size bytes, written with the next key
 *
 * The order is fixed by the keys alone, not by the table's size. @key need
 * not be in the map: unlike BPF's, a walk whose current key was deleted
 * continues where it was instead of restarting. A walk from 0 until ENOENT
 * returns every key present for the whole walk exactly once and always ends.
 *
 * Errors: ENOENT (no key after @key: the walk is over).
 */
struct hmap_get_next_key {
	__u32 size;
	__u32 flags;
	__u64 key;
	__u64 next_key;
};

/**
 * struct hmap_clear - HMAP_IOC_CLEAR: remove every entry (on a writable map fd)
 * @size: sizeof(struct hmap_clear)
 * @flags: must be 0
 *
 * Lookups running meanwhile see the old content or an empty map.
 *
 * Errors: EPERM (read-only fd).
 */
struct hmap_clear {
	__u32 size;
	__u32 flags;
};

/**
 * struct hmap_info - HMAP_IOC_INFO: describe a map (on a map fd)
 * @size: sizeof(struct hmap_info)
 * @flags: must be 0
 * @key_size: out: bytes per key
 * @value_size: out: bytes per value
 * @max_entries: out: entry limit
 * @capacity_hint: out: as given at creation
 * @count: out: entries now
 * @map_flags: out: HMAP_F_RDONLY if this fd is read-only, HMAP_F_PREALLOC,
 *	HMAP_F_LRU, HMAP_F_TTL and HMAP_F_MMAP if the map was created with
 *	them
 * @id: out: the map's id, for HMAP_IOC_OPEN_BY_ID; never reused while the
 *	module is loaded, until ids wrap around
 * @owner_uid: out: the creator's fsuid
 * @bytes: out: memory held by entries and buckets
 * @name: out: the label given at creation
 * @pub_name: out: the published name, or empty
 * @pub_uid: out: owner of the published name
 * @pub_gid: out: group of the published name
 * @pub_mode: out: permission bits of the published name
 * @buckets: out: size of the bucket array (0 before the first insert)
 * @lookups: out: LOOKUP commands so far, and keys of LOOKUP_MULTI
 * @hits: out: those that found their key
 * @updates: out: successful UPDATE commands
 * @deletes: out: successful DELETE and LOOKUP_AND_DELETE commands
 * @resizes: out: table grows and shrinks
 * @adds: out: successful ADD commands
 * @cmpxchgs: out: successful CMPXCHG commands
 * @conflicts: out: conditional commands that failed with ESTALE
 * @evictions: out: entries an HMAP_F_LRU map removed to make room
 * @expirations: out: entries of an HMAP_F_TTL map removed after their time
 *	to live
 * @mmap_bytes: out: an HMAP_F_MMAP map: bytes mmap() may map
 *	(&hmap_mmap_header.mmap_bytes); 0 otherwise
 *
 * Every field after @flags is written back, up to the @size the caller
 * passed.
 */
struct hmap_info {
	__u32 size;
	__u32 flags;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 capacity_hint;
	__u32 count;
	__u32 map_flags;
	__u32 id;
	__u32 owner_uid;
	__u64 bytes;
	char name[HMAP_NAME_LEN];
	char pub_name[HMAP_NAME_LEN];
	__u32 pub_uid;
	__u32 pub_gid;
	__u32 pub_mode;
	__u32 buckets;
	__u64 lookups;
	__u64 hits;
	__u64 updates;
	__u64 deletes;
	__u64 resizes;
	__u64 adds;
	__u64 cmpxchgs;
	__u64 conflicts;
	__u64 evictions;
	__u64 expirations;
	__u64 mmap_bytes;
};

/**
 * define HMAP_PUBLISH_REPLACE - for HMAP_IOC_PUBLISH, point a taken name at this map
 *
 * The name must exist; in one step it stops naming its map and names this
 * one, keeping its owner, group and mode. HMAP_IOC_OPEN_BY_NAME then opens
 * this map; an OPEN_BY_NAME running at the same time opens one or the
 * other, never neither. Fds already open keep the map they opened: an fd
 * is a reference to a map, never to a name, so nobody's reads or writes
 * switch maps halfway (the safe form of swapping a pointer to a header,
 * where copying the header over would tear it). The old map loses the
 * name's reference and goes away with its last fd and watch; its watches
 * get an HMAP_EVENT_REPLACED record.
 */
#define HMAP_PUBLISH_REPLACE	_BITUL(0)

/**
 * define HMAP_PUBLISH_ANY_SIZES - for HMAP_IOC_PUBLISH, replace with other key or value sizes
 *
 * Without it, HMAP_PUBLISH_REPLACE requires the key and value sizes of the
 * two maps to be the same, so that the name's users need not check them.
 */
#define HMAP_PUBLISH_ANY_SIZES	_BITUL(1)

/**
 * define HMAP_PUBLISH_OWNER - for HMAP_IOC_PUBLISH, give the name this owner and group
 *
 * The name's owner and group are &hmap_publish.uid and &hmap_publish.gid
 * (in the caller's user namespace) instead of the caller's fsuid and fsgid,
 * as chown(2) would; it needs CAP_CHOWN where both are mapped. For
 * restoring saved maps with the names they had.
 */
#define HMAP_PUBLISH_OWNER	_BITUL(2)

/**
 * struct hmap_publish - HMAP_IOC_PUBLISH: give a map a name (on a writable
 * map fd)
 * @size: sizeof(struct hmap_publish)
 * @mode: permission bits for HMAP_IOC_OPEN_BY_NAME, a subset of 0666: read
 *	lets a user open the map read-only, read and write lets it open it
 *	read-write. Owner and group are the caller's fsuid and fsgid. Must be
 *	0 with HMAP_PUBLISH_REPLACE, which keeps the name's.
 * @name: the name, as described at HMAP_NAME_LEN
 * @flags: HMAP_PUBLISH_REPLACE, HMAP_PUBLISH_ANY_SIZES (only with
 *	REPLACE), HMAP_PUBLISH_OWNER, or 0
 * @uid: with HMAP_PUBLISH_OWNER: the name's owner; else 0
 * @gid: with HMAP_PUBLISH_OWNER: the name's group; else 0
 * @__reserved: must be 0
 *
 * A published map lives on after its last fd is closed, like a pinned BPF
 * map, until HMAP_IOC_UNPUBLISH or the end of its IPC namespace. The name
 * is in the IPC namespace the map was created in, and only a caller in
 * that namespace may publish it.
 *
 * Only the map's creator (same fsuid) or CAP_SYS_ADMIN may publish it: a
 * name keeps the map alive against its creator's per-user limits, so a
 * user given a writable fd must not be able to pin it by name. To replace,
 * the caller must also be allowed to remove the name (UNPUBLISH: the
 * name's owner, the old map's creator, or CAP_SYS_ADMIN): moving a name is
 * an operation on the name, as rename(2) over a file needs the directory,
 * not the file, so the name's mode does not grant it. A replaced map lives
 * on while fds or watches refer to it, charged to its creator.
 *
 * Errors: EINVAL (bad name, bits outside 0666, a mode with REPLACE,
 * unknown flags, ANY_SIZES without REPLACE, an unmapped @uid or @gid; with
 * REPLACE and not ANY_SIZES, key or value sizes that differ); EEXIST (the
 * name is taken, without REPLACE); ENOENT (REPLACE: no such name); EBUSY
 * (this map is already published, under this name or another); EPERM
 * (read-only fd, the caller did not create the map, REPLACE of a name the
 * caller may not remove, or OWNER without CAP_CHOWN); EXDEV (the map was
 * created in another IPC namespace than the caller's).
 */
struct hmap_publish {
	__u32 size;
	__u32 mode;
	char name[HMAP_NAME_LEN];
	__u32 flags;
	__u32 uid;
	__u32 gid;
	__u32 __reserved;
};

/**
 * struct hmap_unpublish - HMAP_IOC_UNPUBLISH: remove a name (on /dev/hmap)
 * @size: sizeof(struct hmap_unpublish)
 * @flags: must be 0
 * @name: the published name
 *
 * The map itself goes away when no fd refers to it either.
 *
 * Errors: EINVAL (bad name); ENOENT (no such name); EPERM (the caller is
 * neither the name's owner nor the map's creator, nor has CAP_SYS_ADMIN).
 */
struct hmap_unpublish {
	__u32 size;
	__u32 flags;
	char name[HMAP_NAME_LEN];
};

/**
 * struct hmap_open_by_name - HMAP_IOC_OPEN_BY_NAME: open a published map
 * (on /dev/hmap)
 * @size: sizeof(struct hmap_open_by_name)
 * @flags: HMAP_F_RDONLY or 0
 * @name: the published name
 *
 * The caller's fsuid and groups are checked against the name's owner, group
 * and mode as for a file; CAP_DAC_OVERRIDE bypasses the check. Returns a new
 * map fd (close-on-exec).
 *
 * Errors: EINVAL (bad name); ENOENT (no such name); EACCES (the mode does
 * not allow it); EMFILE/ENFILE.
 */
struct hmap_open_by_name {
	__u32 size;
	__u32 flags;
	char name[HMAP_NAME_LEN];
};

/**
 * struct hmap_open_by_id - HMAP_IOC_OPEN_BY_ID: open a live map by id (on
 * /dev/hmap)
 * @size: sizeof(struct hmap_open_by_id)
 * @flags: HMAP_F_RDONLY or 0
 * @id: the map's id
 * @__reserved: must be 0
 *
 * An id never keeps a map alive: this succeeds only while some fd or name
 * still does. The map must be of the caller's IPC namespace, and the caller
 * must have created it or have CAP_SYS_ADMIN; to anyone else a map is as
 * absent as an unused id. Returns a new map fd
 * (close-on-exec).
 *
 * Errors: ENOENT (no live map has this id that the caller may open);
 * EMFILE/ENFILE.
 */
struct hmap_open_by_id {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __reserved;
};

/**
 * struct hmap_get_next_id - HMAP_IOC_GET_NEXT_ID: list maps (on /dev/hmap)
 * @size: sizeof(struct hmap_get_next_id)
 * @start_id: find the first live map with an id above this (0: the first)
 * @next_id: out: that map's id
 * @__reserved: must be 0
 *
 * Lists only the maps the caller could open with HMAP_IOC_OPEN_BY_ID: those
 * of the caller's IPC namespace created with the caller's fsuid, or all of
 * them with CAP_SYS_ADMIN, so that ids do not tell one user or container
 * what others have.
 *
 * Errors: ENOENT (no such map above @start_id).
 */
struct hmap_get_next_id {
	__u32 size;
	__u32 start_id;
	__u32 next_id;
	__u32 __reserved;
};

/**
 * define HMAP_BATCH_CONTINUE - for UPDATE_BATCH and DELETE_BATCH, go on past a failed entry
 *
 * Without it a batch stops at its first failed entry.
 */
#define HMAP_BATCH_CONTINUE	0x1U

/**
 * struct hmap_batch - many entries in one command (on a map fd)
 * @size: sizeof(struct hmap_batch)
 * @flags: HMAP_BATCH_CONTINUE for UPDATE_BATCH and DELETE_BATCH; else 0
 * @elem_flags: UPDATE_BATCH: HMAP_ANY, HMAP_NOEXIST or HMAP_EXIST, for every
 *	entry; else 0
 * @in_cursor: LOOKUP_BATCH, LOOKUP_AND_DELETE_BATCH: user pointer to the key
 *	to continue after (it need not be in the map), or 0 to start at the
 *	first key; else 0
 * @out_cursor: LOOKUP_BATCH, LOOKUP_AND_DELETE_BATCH: user pointer to
 *	key_size bytes, written with the last key returned (pass it back as
 *	@in_cursor to go on); else 0
 * @keys: user pointer to @count keys, one after the other: written by the
 *	lookup batches, read by the others
 * @values: user pointer to @count values: written by the lookup batches
 *	and LOOKUP_MULTI, read by UPDATE_BATCH; 0 for DELETE_BATCH
 * @status: UPDATE_BATCH, DELETE_BATCH, LOOKUP_MULTI: user pointer to @count
 *	__s32, each written with its entry's result (0 or -errno), or 0 for
 *	none (not for LOOKUP_MULTI); else 0. Need not be aligned.
 * @count: in: entries given, or room for entries (at least 1 for the
 *	lookup batches); out: entries done, written back however the command
 *	ends once its arguments are accepted (0 if it failed before the first)
 * @__reserved: must be 0
 *
 * Every batch works in chunks of at most 1024 entries and 256 KiB of keys
 * and values, and before each chunk stops with EINTR if a signal is
 * pending, writing back @count (and @out_cursor) as for any other ending:
 * a batch with a huge @count is never unkillable, and can be resumed.
 *
 * HMAP_IOC_LOOKUP_BATCH (on a map fd): copy out up to @count entries in
 * iteration order after @in_cursor. Concurrent deletes never make the walk
 * restart or repeat; a bucket larger than @count is simply continued in the
 * next call. Returns 0 if entries may remain, or ENOENT once the walk has
 * reached the last key (@count may still be non-zero).
 * Errors: ENOENT (the end, see above); EINVAL (@count 0); EINTR; ENOMEM.
 *
 * HMAP_IOC_LOOKUP_AND_DELETE_BATCH (on a writable map fd): the same, and
 * each entry returned is removed; the value returned is the one it held
 * when it was removed. Entries deleted by others meanwhile are skipped. The
 * argument struct and @out_cursor are checked for writing before anything
 * is removed (else EFAULT, the map unchanged), and each entry is copied
 * into @keys and @values before it is removed: on EFAULT, @count is
 * exactly the number of entries removed and returned (unless another
 * thread unmaps the argument struct itself during the call).
 * Errors: as LOOKUP_BATCH; EINTR; EPERM (read-only fd).
 *
 * HMAP_IOC_LOOKUP_MULTI (on a map fd): look up each of @count given keys,
 * as a memcached multi-get: @keys in, @values and @status out (@status is
 * required; @in_cursor and @out_cursor must be 0). Each key's @status is 0
 * or -ENOENT; an absent key's value is zeroed. Keys may repeat. Returns 0
 * once every key is looked up; @count comes back as the number of keys
 * whose value and status were written (on EFAULT, those of the chunks
 * before the one that failed).
 * Errors: EINVAL (@status 0, a cursor given); EINTR; ENOMEM.
 *
 * HMAP_IOC_UPDATE_BATCH (on a writable map fd): UPDATE each of @count
 * entries in order. HMAP_IOC_DELETE_BATCH (on a writable map fd): DELETE
 * each of @count keys. Without HMAP_BATCH_CONTINUE the batch stops at the
 * first failed entry and returns its error; with it the batch goes to the
 * end and returns 0, and @status tells which entries failed. @count comes
 * back as the number of entries attempted.
 * Errors: those of UPDATE or DELETE for the first failed entry; EINVAL;
 * EINTR; EPERM (read-only fd); ENOMEM.
 */
struct hmap_batch {
	__u32 size;
	__u32 flags;
	__u64 elem_flags;
	__u64 in_cursor;
	__u64 out_cursor;
	__u64 keys;
	__u64 values;
	__u64 status;
	__u32 count;
	__u32 __reserved;
};

/**
 * define HMAP_ADD_CREATE - for HMAP_IOC_ADD, an absent entry is created, as if it held 0
 */
#define HMAP_ADD_CREATE		0x1U

/**
 * struct hmap_add - HMAP_IOC_ADD: add to a counter atomically (on a writable
 * map fd)
 * @size: sizeof(struct hmap_add)
 * @flags: HMAP_ADD_CREATE or 0
 * @key: user pointer to key_size bytes
 * @delta: the amount to add, signed
 * @old_value: out: the value before the add (0 if it created the entry)
 * @new_value: out: the value after it
 * @version: out: the entry's new version
 * @ttl_ms: in an HMAP_F_TTL map, the time to live of an entry the ADD
 *	creates, as &hmap_elem_op.ttl_ms; an entry that exists keeps its own.
 *	0 in other maps.
 *
 * The value, of a map whose value_size is 4 or 8, is an unsigned integer in
 * the machine's byte order, and @delta is added modulo 2^32 or 2^64: it
 * wraps around, it never fails on overflow (read it as signed, and a
 * counter goes below zero as expected). @old_value and @new_value hold it
 * zero-extended. Adds from any number of processes at once are never lost:
 * each one reads and writes the value under the lock that orders every
 * write of the entry, and lookups see the value before or after, as for
 * UPDATE. The output fields are checked for writing before the add, so an
 * EFAULT leaves the map as it was (unless another thread unmaps them
 * during the call).
 *
 * Errors: EOPNOTSUPP (value_size is neither 4 nor 8); ENOENT (absent,
 * without HMAP_ADD_CREATE); EINVAL (@ttl_ms as for UPDATE); when it
 * creates: E2BIG, ENOMEM, EDQUOT, EINTR and EMLINK as for UPDATE; EPERM
 * (read-only fd).
 */
struct hmap_add {
	__u32 size;
	__u32 flags;
	__u64 key;
	__s64 delta;
	__u64 old_value;
	__u64 new_value;
	__u64 version;
	__u64 ttl_ms;
};

/**
 * struct hmap_cmpxchg - HMAP_IOC_CMPXCHG: compare-and-swap by value (on a
 * writable map fd)
 * @size: sizeof(struct hmap_cmpxchg)
 * @flags: must be 0
 * @key: user pointer to key_size bytes
 * @expected: user pointer to value_size bytes: the value the entry must
 *	hold; on ESTALE, overwritten with the value it holds
 * @desired: user pointer to value_size bytes: the value to store
 * @version: out: the entry's new version, or on ESTALE its current one
 *
 * C11 atomic_compare_exchange_strong() on a map entry: if the entry's value
 * equals *@expected byte for byte, it becomes *@desired; if not, nothing
 * changes and the value found is copied to *@expected, ready for the next
 * try of a loop. Values are compared whole, under the lock that orders
 * writes of the entry. @version is checked for writing before anything
 * changes.
 *
 * Errors: ESTALE (the value differs); ENOENT (absent); EPERM (read-only
 * fd).
 */
struct hmap_cmpxchg {
	__u32 size;
	__u32 flags;
	__u64 key;
	__u64 expected;
	__u64 desired;
	__u64 version;
};

/**
 * define HMAP_WATCH_VALUES - for HMAP_IOC_WATCH, records carry values, not only keys
 *
 * UPDATE records then carry the entry's new value; DELETE, EVICT and EXPIRE
 * records the value the entry held when it was removed.
 */
#define HMAP_WATCH_VALUES	_BITUL(0)

/**
 * define HMAP_WATCH_NONBLOCK - for HMAP_IOC_WATCH, the watch fd is O_NONBLOCK
 */
#define HMAP_WATCH_NONBLOCK	_BITUL(1)

/* The default, the smallest and the largest buffer of one watch, in bytes. */
#define HMAP_WATCH_DEFAULT_BYTES	(256 * 1024)
#define HMAP_WATCH_MIN_BYTES		4096
#define HMAP_WATCH_MAX_BYTES		(64 * 1024 * 1024)

/**
 * struct hmap_watch - HMAP_IOC_WATCH: open a change stream (on a map fd)
 * @size: sizeof(struct hmap_watch)
 * @flags: HMAP_WATCH_VALUES, HMAP_WATCH_NONBLOCK, or 0
 * @buf_bytes: the watch's buffer, in bytes: 0 for
 *	HMAP_WATCH_DEFAULT_BYTES (or twice the largest record, if more),
 *	else from HMAP_WATCH_MIN_BYTES and twice the largest record of the
 *	map (see &struct hmap_event) to HMAP_WATCH_MAX_BYTES
 * @__reserved: must be 0
 * @seq: out: the sequence number of the last change before the watch
 *	began: its first record has @seq + 1, or is an overflow record
 *
 * Returns a new fd (close-on-exec) that reads the map's changes as &struct
 * hmap_event records, in the order the map made them: every UPDATE,
 * UPDATE_BATCH, ADD or CMPXCHG that wrote an entry, every DELETE (also
 * LOOKUP_AND_DELETE and the batches) that removed one, CLEAR, and an LRU
 * map's evictions and a TTL map's expirations when the entry is removed.
 * A separate fd, as inotify's and perf's are, not read() on the map fd:
 * map fds are shared by dup() and fork() and opened by many processes for
 * commands, while a stream needs a reader position and a buffer of its own
 * (several per process, with different options), and an fd that epoll
 * reports readable only for changes.
 *
 * The fd behaves as a character device's: read() blocks until a record is
 * there (EAGAIN with O_NONBLOCK; a signal interrupts it, restarting it
 * under SA_RESTART), returns whole records only, as many as fit of those
 * there when it began, and fails with EINVAL if the next one does not fit
 * at all; read() of 0 bytes returns 0; poll() and epoll report EPOLLIN
 * while records wait. Records are removed by the read() that returns them,
 * once they reached the caller's buffer: a fault (EFAULT, or a short read)
 * loses none. The fd is a stream: pread() and lseek() fail with ESPIPE.
 * The watch keeps the map alive, as a map fd does, until it is closed.
 *
 * Writers append to the buffer of every watch of the map, under one lock
 * per map that a reader holds only to copy out at most one bounce buffer
 * (a page, or one record), and never wait for a reader to make room: a
 * record that does not fit is dropped, and the reader finds in its place
 * one HMAP_EVENT_OVERFLOW record with the number of records lost, after
 * which it should take the map anew (LOOKUP_BATCH) and apply the records
 * that follow. A map without watches pays one load per write; with watches,
 * each change costs an append per watch, so a map takes at most
 * max_watches_per_map of them (a module parameter).
 *
 * The buffer is charged to the memory cgroup of the caller and to the
 * caller's max_watch_bytes_per_user (a module parameter); it is @buf_bytes
 * rounded up to a power of two. Access is checked as for LOOKUP: a
 * read-only map fd may watch. /proc/PID/fdinfo of a watch fd shows map_id,
 * buf_bytes, queued_bytes, lost (records dropped so far) and values.
 *
 * Sequence numbers count the changes made while the map has at least one
 * watch; a map nobody watches does not number its changes.
 *
 * To mirror a map: open the watch, walk the map with LOOKUP_BATCH, then
 * apply every record in order (a CLEAR removes every key). The walk may
 * already show some of the changes the records report, but the last record
 * of a key, or a CLEAR after it, gives its state now, whatever the walk
 * saw. After an overflow, the same again.
 *
 * Errors: EINVAL (unknown @flags, @__reserved not 0, @buf_bytes out of
 * range); EDQUOT (the caller's max_watch_bytes_per_user is reached: a
 * watch counts its buffer, a bounce buffer and its own struct); ENOSPC
 * (normally before any charge or allocation: the map has max_watches_per_map
 * watches, or the largest records of its watches, this one's included,
 * would add up to more than 1 MiB, since every change is copied to each
 * watch under one lock: a map of 64 KiB values takes 15 watches with
 * HMAP_WATCH_VALUES; or the caller, neither the map's creator nor exempt
 * from per-user limits, would hold more than half of either bound, so
 * that a shared map's readers cannot take every watch from its creator);
 * ENOMEM; EMFILE/ENFILE.
 */
struct hmap_watch {
	__u32 size;
	__u32 flags;
	__u32 buf_bytes;
	__u32 __reserved;
	__u64 seq;
};

/**
 * enum hmap_event_op - what a change record reports, in &hmap_event.op
 * @HMAP_EVENT_UPDATE: an entry was created or its value changed
 * @HMAP_EVENT_DELETE: an entry was removed by a delete command
 * @HMAP_EVENT_CLEAR: every entry was removed (one record per CLEAR, even
 *	of an empty map); no key follows
 * @HMAP_EVENT_EVICT: an HMAP_F_LRU map removed the entry to make room
 * @HMAP_EVENT_EXPIRE: an expired entry of an HMAP_F_TTL map was removed (by
 *	the sweep, or by the command that met it); the entry was already
 *	absent for every command from its deadline on
 * @HMAP_EVENT_OVERFLOW: records were dropped here because the buffer was
 *	full: &hmap_event.lost of them, from &hmap_event.seq on; no key follows
 * @HMAP_EVENT_REPLACED: the map's published name now names another map
 *	(HMAP_PUBLISH_REPLACE), whose id is &hmap_event.version; no key
 *	follows. The watch goes on reporting this map's changes.
 */
enum hmap_event_op {
	HMAP_EVENT_UPDATE = 1,
	HMAP_EVENT_DELETE = 2,
	HMAP_EVENT_CLEAR = 3,
	HMAP_EVENT_EVICT = 4,
	HMAP_EVENT_EXPIRE = 5,
	HMAP_EVENT_OVERFLOW = 6,
	HMAP_EVENT_REPLACED = 7,
};

/**
 * struct hmap_event - one record read from a watch fd
 * @seq: the map's change sequence number: one per change made while the
 *	map is watched (and per REPLACED record), from 1, in the order the
 *	changes were made; with no overflow record between them, two records
 *	that follow each other have consecutive numbers. An overflow record
 *	has the number of the first record lost.
 * @version: UPDATE: the entry's new version; DELETE, EVICT and EXPIRE: the
 *	version of the entry removed; REPLACED: the id of the map that took
 *	the name; else 0
 * @lost: OVERFLOW: how many records were dropped; else 0
 * @len: bytes of this record, header included: a multiple of 8. The next
 *	record starts @len bytes after this one.
 * @op: an &enum hmap_event_op
 * @__reserved: 0
 * @key_size: bytes of key after the header (the map's key size, or 0)
 * @value_size: bytes of value after the key (the map's value size with
 *	HMAP_WATCH_VALUES for UPDATE, DELETE, EVICT and EXPIRE; else 0)
 *
 * The key, then the value, then zero padding to @len follow the header.
 */
struct hmap_event {
	__u64 seq;
	__u64 version;
	__u64 lost;
	__u32 len;
	__u16 op;
	__u16 __reserved;
	__u32 key_size;
	__u32 value_size;
};

/**
 * HMAP_VERSION() - a module version as &hmap_features.version holds it
 * @major: major version
 * @minor: minor version
 * @patch: patch level
 */
#define HMAP_VERSION(major, minor, patch) \
	(((major) << 16) | ((minor) << 8) | (patch))

/**
 * struct hmap_features - HMAP_IOC_FEATURES: what the loaded module
 * supports (on /dev/hmap)
 * @size: sizeof(struct hmap_features)
 * @flags: must be 0
 * @version: out: the module's version, as HMAP_VERSION() makes it
 * @__reserved: must be 0
 * @commands: out: bit N - HMAP_CMD_BASE set for each command number N
 *	(HMAP_CMD_*) the module knows
 * @create_flags: out: the flags HMAP_IOC_CREATE accepts (HMAP_F_*)
 * @update_flags: out: the flags HMAP_IOC_UPDATE accepts
 * @delete_flags: out: the flags HMAP_IOC_DELETE accepts
 * @publish_flags: out: the flags HMAP_IOC_PUBLISH accepts
 * @open_flags: out: the flags HMAP_IOC_OPEN_BY_NAME and OPEN_BY_ID accept
 * @batch_flags: out: the flags HMAP_IOC_UPDATE_BATCH and DELETE_BATCH
 *	accept; LOOKUP_BATCH, LOOKUP_AND_DELETE_BATCH and LOOKUP_MULTI
 *	accept none
 * @add_flags: out: the flags HMAP_IOC_ADD accepts
 * @watch_flags: out: the flags HMAP_IOC_WATCH accepts
 * @batch_elem_flags: out: the &hmap_batch.elem_flags UPDATE_BATCH accepts
 *
 * So that a program built against a newer header can tell, on an older
 * module, that a command or flag is missing, instead of reading ENOTTY or
 * EINVAL as its own mistake. A module older than this command fails it
 * with ENOTTY: it knows the commands up to HMAP_IOC_WATCH. Every field
 * after @flags is written back, up to the @size the caller passed.
 */
struct hmap_features {
	__u32 size;
	__u32 flags;
	__u32 version;
	__u32 __reserved;
	__u64 commands;
	__u64 create_flags;
	__u64 update_flags;
	__u64 delete_flags;
	__u64 publish_flags;
	__u64 open_flags;
	__u64 batch_flags;
	__u64 add_flags;
	__u64 watch_flags;
	__u64 batch_elem_flags;
};

#define HMAP_TYPE		0xB8

enum {
	HMAP_CMD_BASE = 0x80,
	HMAP_CMD_CREATE = HMAP_CMD_BASE,
	HMAP_CMD_LOOKUP,
	HMAP_CMD_UPDATE,
	HMAP_CMD_DELETE,
	HMAP_CMD_LOOKUP_AND_DELETE,
	HMAP_CMD_GET_NEXT_KEY,
	HMAP_CMD_CLEAR,
	HMAP_CMD_INFO,
	HMAP_CMD_PUBLISH,
	HMAP_CMD_UNPUBLISH,
	HMAP_CMD_OPEN_BY_NAME,
	HMAP_CMD_OPEN_BY_ID,
	HMAP_CMD_GET_NEXT_ID,
	HMAP_CMD_LOOKUP_BATCH,
	HMAP_CMD_LOOKUP_AND_DELETE_BATCH,
	HMAP_CMD_UPDATE_BATCH,
	HMAP_CMD_DELETE_BATCH,
	HMAP_CMD_ADD,
	HMAP_CMD_CMPXCHG,
	HMAP_CMD_LOOKUP_MULTI,
	HMAP_CMD_WATCH,
	HMAP_CMD_FEATURES,
};

/*
 * The struct size is not part of the ioctl number, as in iommufd: structs
 * grow by appending, and @size tells the kernel which version it is reading.
 */
#define HMAP_IOC_CREATE			_IO(HMAP_TYPE, HMAP_CMD_CREATE)
#define HMAP_IOC_LOOKUP			_IO(HMAP_TYPE, HMAP_CMD_LOOKUP)
#define HMAP_IOC_UPDATE			_IO(HMAP_TYPE, HMAP_CMD_UPDATE)
#define HMAP_IOC_DELETE			_IO(HMAP_TYPE, HMAP_CMD_DELETE)
#define HMAP_IOC_LOOKUP_AND_DELETE	_IO(HMAP_TYPE, HMAP_CMD_LOOKUP_AND_DELETE)
#define HMAP_IOC_GET_NEXT_KEY		_IO(HMAP_TYPE, HMAP_CMD_GET_NEXT_KEY)
#define HMAP_IOC_CLEAR			_IO(HMAP_TYPE, HMAP_CMD_CLEAR)
#define HMAP_IOC_INFO			_IO(HMAP_TYPE, HMAP_CMD_INFO)
#define HMAP_IOC_PUBLISH		_IO(HMAP_TYPE, HMAP_CMD_PUBLISH)
#define HMAP_IOC_UNPUBLISH		_IO(HMAP_TYPE, HMAP_CMD_UNPUBLISH)
#define HMAP_IOC_OPEN_BY_NAME		_IO(HMAP_TYPE, HMAP_CMD_OPEN_BY_NAME)
#define HMAP_IOC_OPEN_BY_ID		_IO(HMAP_TYPE, HMAP_CMD_OPEN_BY_ID)
#define HMAP_IOC_GET_NEXT_ID		_IO(HMAP_TYPE, HMAP_CMD_GET_NEXT_ID)
#define HMAP_IOC_LOOKUP_BATCH		_IO(HMAP_TYPE, HMAP_CMD_LOOKUP_BATCH)
#define HMAP_IOC_LOOKUP_AND_DELETE_BATCH \
	_IO(HMAP_TYPE, HMAP_CMD_LOOKUP_AND_DELETE_BATCH)
#define HMAP_IOC_UPDATE_BATCH		_IO(HMAP_TYPE, HMAP_CMD_UPDATE_BATCH)
#define HMAP_IOC_DELETE_BATCH		_IO(HMAP_TYPE, HMAP_CMD_DELETE_BATCH)
#define HMAP_IOC_ADD			_IO(HMAP_TYPE, HMAP_CMD_ADD)
#define HMAP_IOC_CMPXCHG		_IO(HMAP_TYPE, HMAP_CMD_CMPXCHG)
#define HMAP_IOC_LOOKUP_MULTI		_IO(HMAP_TYPE, HMAP_CMD_LOOKUP_MULTI)
#define HMAP_IOC_WATCH			_IO(HMAP_TYPE, HMAP_CMD_WATCH)
#define HMAP_IOC_FEATURES		_IO(HMAP_TYPE, HMAP_CMD_FEATURES)

#endif /* _UAPI_LINUX_HMAP_H */
