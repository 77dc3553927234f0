/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hmap service internals: map objects, their lifetime, and the ioctl layer.
 */
#ifndef _HMAP_PRIV_H
#define _HMAP_PRIV_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>
#include <linux/workqueue.h>
#include <linux/hmap.h>

/* The module's version: MODULE_VERSION, HMAP_IOC_FEATURES, dkms.conf. */
#define HMAP_VERSION_MAJOR	0
#define HMAP_VERSION_MINOR	1
#define HMAP_VERSION_PATCH	0
#define HMAP_VERSION_STRING	"0.1.0"

/*
 * The flags each command accepts: what its checks reject outside of, and
 * what HMAP_IOC_FEATURES reports, so the two never disagree.
 */
#define HMAP_CREATE_FLAGS	(HMAP_F_RDONLY | HMAP_F_PREALLOC | HMAP_F_LRU | \
				 HMAP_F_TTL | HMAP_F_MMAP)
#define HMAP_UPDATE_FLAGS	(HMAP_NOEXIST | HMAP_EXIST | HMAP_IF_VERSION)
#define HMAP_DELETE_FLAGS	HMAP_IF_VERSION
#define HMAP_PUBLISH_FLAGS	(HMAP_PUBLISH_REPLACE | HMAP_PUBLISH_ANY_SIZES | \
				 HMAP_PUBLISH_OWNER)
#define HMAP_OPEN_FLAGS		HMAP_F_RDONLY
#define HMAP_BATCH_FLAGS	HMAP_BATCH_CONTINUE
#define HMAP_BATCH_ELEM_FLAGS	(HMAP_NOEXIST | HMAP_EXIST)
#define HMAP_ADD_FLAGS		HMAP_ADD_CREATE
#define HMAP_WATCH_FLAGS	(HMAP_WATCH_VALUES | HMAP_WATCH_NONBLOCK)

#include "hmap_table.h"

/**
 * struct hmap_map_stats - per-CPU operation counters of one map
 * @lookups: LOOKUP commands
 * @hits: LOOKUP commands that found their key
 * @updates: successful UPDATE commands
 * @deletes: successful DELETE and LOOKUP_AND_DELETE commands
 * @adds: successful ADD commands
 * @cmpxchgs: successful CMPXCHG commands
 * @conflicts: conditional commands that failed with ESTALE
 */
struct hmap_map_stats {
	u64 lookups;
	u64 hits;
	u64 updates;
	u64 deletes;
	u64 adds;
	u64 cmpxchgs;
	u64 conflicts;
};

/**
 * struct hmap_user - what the maps of one uid hold, for the per-user limits
 * @node: link in the table of users, under hmap_users_lock.
 * @uid: the creators' fsuid.
 * @refs: maps not yet freed that were created by @uid, under
 *	hmap_users_lock; the user goes with the last.
 * @maps: maps of @uid still alive (not yet released), against
 *	max_maps_per_user.
 * @budget: bytes those maps hold, against max_bytes_per_user, inside the
 *	module's budget.
 * @watch_bytes: bytes of watch buffers @uid holds, against
 *	max_watch_bytes_per_user; each watch holds a reference (@refs).
 */
struct hmap_user {
	struct hlist_node node;
	kuid_t uid;
	unsigned int refs;
	atomic_t maps;
	struct hmap_budget budget;
	atomic64_t watch_bytes;
};

/**
 * struct hmap_watches - the change streams of one map
 * @mutex: serialises watches coming and going: the first one sets
 *	&hmap_htab.notify, once it is on @list; the last one clears it, once
 *	it is off.
 * @lock: taken by every change of a watched map, inside the entry's bucket
 *	lock (a clear: inside the rwsem held for write; a replace: inside
 *	hmap_names_lock), to number it and append it to each watch in that
 *	order; and by readers copying records out. Guards @list, @seq and every watch's
 *	buffer.
 * @list: the watches (&struct hmap_watcher.node).
 * @seq: the number of the last change made while watched.
 * @count: watches on @list, against max_watches_per_map; under @mutex.
 */
struct hmap_watches {
	struct mutex mutex;	/* see @mutex above */
	spinlock_t lock;	/* see @lock above */
	struct list_head list;
	u64 seq;
	u32 count;
};

/**
 * struct hmap_ns - the names and ids of one IPC namespace (hmap_ns.c)
 * @ref: one per map created in the namespace, and one per user of the
 *	record for the length of a command.
 * @node: link in hmap_ns_list, under hmap_ns_lock.
 * @mnt: the namespace's mqueue mount, pinned: the namespace's identity,
 *	and, through its superblock's s_fs_info, whether it is alive. NULL
 *	without CONFIG_POSIX_MQUEUE. Immutable.
 * @user_ns: the user namespace that owns the IPC namespace, in which
 *	capabilities over its maps are checked. Immutable.
 * @names: the maps published in the namespace, under hmap_names_lock.
 * @dead: set under hmap_ns_lock once the reaper has found the namespace
 *	gone and taken its names; @mnt is then unpinned, never dereferenced
 *	nor compared again, and the record lives only for the maps made
 *	there that fds still hold.
 */
struct hmap_ns {
	struct kref ref;
	struct list_head node;
	struct vfsmount *mnt;
	struct user_namespace *user_ns;
	struct list_head names;
	bool dead;
};

/**
 * struct hmap_map - one map, as the service sees it
 * @ref: one reference per map fd and one for a published name. In-flight
 *	ioctls hold their fd's file, hence a reference, for their duration.
 *	An id holds none: OPEN_BY_ID takes one only if @ref is not zero.
 * @htab: the table; it does its own locking.
 * @id: key in hmap_ids, removed when @ref drops to zero.
 * @capacity_hint: as given at creation.
 * @owner_uid: the creator's fsuid, for OPEN_BY_ID.
 * @owner_gid: the creator's fsgid.
 * @ns: the IPC namespace the map was created in, whose ids list it and
 *	whose names it may be published under. Immutable.
 * @name: label given at creation; immutable.
 * @pub_node: link in @ns's list of published maps.
 * @pub_name: published name, empty if none.
 * @pub_uid: owner of the published name.
 * @pub_gid: group of the published name.
 * @pub_mode: permission bits of the published name.
 *	@pub_node, @pub_name, @pub_uid, @pub_gid and @pub_mode are protected
 *	by hmap_names_lock.
 * @memcg: the creator's memory cgroup, charged for everything the map
 *	allocates on anyone's behalf.
 * @user: the creator's per-user accounting, or NULL if the creator had
 *	CAP_SYS_RESOURCE (exempt from per-user limits). Immutable.
 * @stats: operation counters.
 * @free_work: frees the map a grace period after @ref dropped to zero, so
 *	that an OPEN_BY_ID that found it under RCU can still read @ref.
 * @sweep: HMAP_F_TTL maps: reclaims expired entries (hmap_expiry.c);
 *	stopped before the map is freed.
 * @sweep_cursor: the next bucket the sweep looks at.
 * @sweep_left: buckets left in the sweep's pass, 0 between passes.
 * @pass_next: the earliest deadline the pass in progress has kept.
 *	@sweep_cursor, @sweep_left and @pass_next belong to the sweep, which
 *	never runs twice at once.
 * @next_expiry: the earliest deadline the sweep knows of (U64_MAX: none),
 *	lowered by writes with atomic64_try_cmpxchg().
 * @watch: the map's watches and change numbers (hmap_watch.c).
 */
struct hmap_map {
	struct kref ref;
	struct hmap_htab htab;
	u32 id;
	u32 capacity_hint;
	kuid_t owner_uid;
	kgid_t owner_gid;
	struct hmap_ns *ns;
	char name[HMAP_NAME_LEN];
	struct list_head pub_node;
	char pub_name[HMAP_NAME_LEN];
	kuid_t pub_uid;
	kgid_t pub_gid;
	umode_t pub_mode;
	struct mem_cgroup *memcg;
	struct hmap_user *user;
	struct hmap_map_stats __percpu *stats;
	struct rcu_work free_work;
	struct delayed_work sweep;
	u32 sweep_cursor;
	u32 sweep_left;
	u64 pass_next;
	atomic64_t next_expiry;
	struct hmap_watches watch;
};

/**
 * struct hmap_counters - module-wide lifetime counters, shown in debugfs
 * @created: maps created
 * @released: maps whose last reference was dropped
 * @freed: maps whose memory was freed
 */
struct hmap_counters {
	atomic_long_t created;
	atomic_long_t released;
	atomic_long_t freed;
};

extern struct hmap_counters hmap_counters;
extern struct hmap_budget hmap_budget;
extern unsigned int hmap_max_maps;
extern unsigned int hmap_max_maps_per_user;
extern u64 hmap_max_bytes_per_user;
extern u64 hmap_max_watch_bytes_per_user;
extern unsigned int hmap_max_watches_per_map;

/* hmap_map.c */
int hmap_maps_init(void);
void hmap_maps_exit(void);
struct hmap_map *hmap_map_create(const struct hmap_create *arg);
void hmap_map_put(struct hmap_map *map);
int hmap_map_install_fd(struct hmap_map *map, u32 flags);
struct hmap_map *hmap_map_from_file(struct file *filp);
int hmap_name_check(const char *name, bool may_be_empty);
int hmap_map_publish(struct hmap_map *map, const struct hmap_publish *arg);
int hmap_unpublish(const char *name);
struct hmap_map *hmap_map_get_by_name(const char *name, bool write);
struct hmap_map *hmap_map_get_by_id(u32 id);
int hmap_map_next_id(u32 start, u32 *next);
void hmap_map_stats_sum(struct hmap_map *map, struct hmap_map_stats *sum);
void hmap_map_get_pub(struct hmap_map *map, char *name, u32 *uid, u32 *gid,
		      u32 *mode);
struct mem_cgroup *hmap_map_memcg_enter(struct hmap_map *map);
void hmap_map_memcg_exit(struct mem_cgroup *old);
struct hmap_user *hmap_user_hold(void);
void hmap_user_unhold(struct hmap_user *u);
void hmap_debugfs_init(void);
void hmap_debugfs_exit(void);

/* The HMAP_F_* flags that describe @map as seen through @filp. */
static inline u32 hmap_map_flags(struct hmap_map *map, struct file *filp)
{
	return (filp->f_mode & FMODE_WRITE ? 0 : HMAP_F_RDONLY) |
	       (hmap_htab_prealloc(&map->htab) ? HMAP_F_PREALLOC : 0) |
	       (map->htab.lru ? HMAP_F_LRU : 0) |
	       (map->htab.ttl ? HMAP_F_TTL : 0) |
	       (map->htab.image ? HMAP_F_MMAP : 0);
}

void hmap_unpublish_all(struct hmap_ns *ns);

/* hmap_ns.c */
struct hmap_ns *hmap_ns_get(bool create);
void hmap_ns_put(struct hmap_ns *ns);
bool hmap_ns_current_is(const struct hmap_ns *ns);
bool hmap_ns_current_admin(int cap);
bool hmap_ns_privileged(const struct hmap_ns *ns, int cap, kuid_t uid,
			kgid_t gid);
void hmap_ns_exit(void);

/* hmap_expiry.c */
int hmap_ttl_deadline(struct hmap_htab *h, u64 ttl_ms, u64 *deadline);
void hmap_expiry_init(struct hmap_map *map);
void hmap_expiry_arm(struct hmap_map *map, u64 deadline);
void hmap_expiry_stop(struct hmap_map *map);

/* hmap_watch.c */
void hmap_watch_init(struct hmap_map *map);
void hmap_watch_event(struct hmap_map *map, u32 op, u64 arg);
int hmap_watch_open(struct hmap_map *map, u32 flags, u32 buf_bytes, u64 *seq,
		    struct file **filep);

/* hmap_ioctl.c */
long hmap_dev_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);
long hmap_map_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);

#endif /* _HMAP_PRIV_H */
