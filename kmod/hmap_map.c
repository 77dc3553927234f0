// SPDX-License-Identifier: GPL-2.0
/*
 * Map objects: creation, references, ids, published names, map fds.
 *
 * A map is referenced by its fds and by its published name. When the last
 * reference goes, the map leaves the id table at once and is freed after an
 * RCU grace period, on hmap_wq, because OPEN_BY_ID finds maps under RCU.
 * Each live map holds a reference on the module, so the module cannot be
 * unloaded while any map exists; module exit waits for pending frees.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/cacheflush.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/hashtable.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/user_namespace.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#include "hmap_priv.h"
#include "hmap_image.h"

struct hmap_counters hmap_counters;

/*
 * Live maps by id, from every namespace. Lookups run under RCU; changes
 * take the XArray's own lock. Ids are allocated cyclically, so that a
 * freed map's id is not soon given to another map.
 */
static DEFINE_XARRAY_ALLOC1(hmap_ids);
static u32 hmap_ids_next;
static atomic_t hmap_nr_maps = ATOMIC_INIT(0);

/* Every namespace's published names and every map's pub_* fields. */
static DEFINE_MUTEX(hmap_names_lock);

/* Frees maps after their grace period; drained at module exit. */
static struct workqueue_struct *hmap_wq;

/* Users with maps not yet freed, by uid; and every hmap_user.refs. */
static DEFINE_HASHTABLE(hmap_users, 6);
static DEFINE_MUTEX(hmap_users_lock);

/*
 * The user a new map is charged to: the caller's fsuid, or, inside a user
 * namespace, the owner of the outermost namespace below the initial one.
 * Every uid a namespace maps belongs to the user who created it, so a user
 * with a range of subordinate uids cannot multiply its limits by them.
 */
static kuid_t hmap_charged_uid(void)
{
	struct user_namespace *ns = current_user_ns();

	if (ns == &init_user_ns)
		return current_fsuid();
	while (ns->parent != &init_user_ns)
		ns = ns->parent;
	return ns->owner;
}

/* The accounting of @uid, created if need be. Called under hmap_users_lock. */
static struct hmap_user *hmap_user_find(kuid_t uid)
{
	struct hmap_user *u;

	hash_for_each_possible(hmap_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		return NULL;
	u->uid = uid;
	u->budget.limit = &hmap_max_bytes_per_user;
	u->budget.parent = &hmap_budget;
	u->budget.err = -EDQUOT;
	hash_add(hmap_users, &u->node, __kuid_val(uid));
	return u;
}

/**
 * hmap_user_hold() - the caller's per-user accounting
 *
 * The user a new map or watch is charged to (see hmap_charged_uid()); a
 * map also takes a map slot (hmap_user_get()).
 *
 * Return: the user, held until hmap_user_unhold(); NULL if the caller is
 * exempt from per-user limits (CAP_SYS_RESOURCE); or ERR_PTR(-ENOMEM).
 */
struct hmap_user *hmap_user_hold(void)
{
	kuid_t uid = hmap_charged_uid();
	struct hmap_user *u;

	/* A question, not a privileged act: no audit record for a "no". */
	if (ns_capable_noaudit(&init_user_ns, CAP_SYS_RESOURCE))
		return NULL;
	mutex_lock(&hmap_users_lock);
	u = hmap_user_find(uid);
	if (u)
		u->refs++;
	mutex_unlock(&hmap_users_lock);
	return u ?: ERR_PTR(-ENOMEM);
}

/**
 * hmap_user_unhold() - drop what hmap_user_hold() took
 * @u: the user, or NULL
 */
void hmap_user_unhold(struct hmap_user *u)
{
	if (!u)
		return;
	mutex_lock(&hmap_users_lock);
	if (!--u->refs) {
		WARN_ON_ONCE(atomic64_read(&u->budget.used) ||
			     atomic64_read(&u->watch_bytes));
		hash_del(&u->node);
		kfree(u);
	}
	mutex_unlock(&hmap_users_lock);
}

/*
 * Takes a map slot of the charged user (see hmap_charged_uid()) for a new
 * map. Return: its accounting, NULL if the caller is exempt
 * (CAP_SYS_RESOURCE, as for rlimits), or ERR_PTR(-EDQUOT) at
 * max_maps_per_user, ERR_PTR(-ENOMEM).
 */
static struct hmap_user *hmap_user_get(void)
{
	struct hmap_user *u = hmap_user_hold();

	if (IS_ERR_OR_NULL(u))
		return u;
	if ((unsigned int)atomic_inc_return(&u->maps) >
	    READ_ONCE(hmap_max_maps_per_user)) {
		atomic_dec(&u->maps);
		hmap_user_unhold(u);
		return ERR_PTR(-EDQUOT);
	}
	return u;
}

/*
 * Drops a freed map's hold on its user: every byte is back by now, and the
 * map's slot too: a closed map counts until its memory is gone.
 */
static void hmap_user_put(struct hmap_user *u)
{
	if (!u)
		return;
	atomic_dec(&u->maps);
	hmap_user_unhold(u);
}

static struct dentry *hmap_debugfs;

static const struct file_operations hmap_map_fops;

static void hmap_map_free_work(struct work_struct *work)
{
	struct hmap_map *map = container_of(to_rcu_work(work), struct hmap_map,
					    free_work);

	hmap_expiry_stop(map);
	hmap_htab_destroy(&map->htab);
	hmap_user_put(map->user);
	hmap_ns_put(map->ns);
	free_percpu(map->stats);
	mem_cgroup_put(map->memcg);
	kfree(map);
	/*
	 * Counted against max_maps until here, not until its release: a
	 * create-and-close loop must not pile up maps waiting to be freed.
	 */
	atomic_dec(&hmap_nr_maps);
	atomic_long_inc(&hmap_counters.freed);
}

static void hmap_map_release(struct kref *ref)
{
	struct hmap_map *map = container_of(ref, struct hmap_map, ref);

	xa_erase(&hmap_ids, map->id);
	atomic_long_inc(&hmap_counters.released);

	INIT_RCU_WORK(&map->free_work, hmap_map_free_work);
	queue_rcu_work(hmap_wq, &map->free_work);
	/* Module exit drains hmap_wq, so the work above still finds its code. */
	module_put(THIS_MODULE);
}

/**
 * hmap_map_put() - drop a reference to a map
 * @map: the map
 *
 * The last reference removes the map's id and frees it after a grace period.
 */
void hmap_map_put(struct hmap_map *map)
{
	kref_put(&map->ref, hmap_map_release);
}

/**
 * hmap_name_check() - validate a name buffer from userspace
 * @name: HMAP_NAME_LEN bytes
 * @may_be_empty: whether "" is acceptable
 *
 * Return: 0, or -EINVAL if it is not 1..31 characters of [A-Za-z0-9_.-],
 * NUL-terminated, with zeros after the NUL.
 */
int hmap_name_check(const char *name, bool may_be_empty)
{
	size_t len = strnlen(name, HMAP_NAME_LEN), i;

	if (len == HMAP_NAME_LEN || (!len && !may_be_empty))
		return -EINVAL;
	/* isalnum() would take Latin-1 letters too: ASCII only. */
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') ||
		      strchr("_.-", name[i])))
			return -EINVAL;
	for (i = len; i < HMAP_NAME_LEN; i++)
		if (name[i])
			return -EINVAL;
	return 0;
}

/**
 * hmap_map_create() - make a new map
 * @arg: the validated-for-size CREATE argument
 *
 * Return: the map holding one reference, or an ERR_PTR: -EINVAL for bad
 * sizes, flags or label, -ENOSPC past max_maps, -EDQUOT past
 * max_maps_per_user (or, for a prealloc map, max_bytes_per_user), -ENOMEM.
 */
struct hmap_map *hmap_map_create(const struct hmap_create *arg)
{
	struct hmap_htab_params p = {
		.key_size = arg->key_size,
		.value_size = arg->value_size,
		.max_entries = arg->max_entries,
		.capacity_hint = arg->capacity_hint,
		.prealloc = arg->flags & HMAP_F_PREALLOC,
		.lru = arg->flags & HMAP_F_LRU,
		.ttl = arg->flags & HMAP_F_TTL,
		.mmap = arg->flags & HMAP_F_MMAP,
	};
	struct hmap_user *user;
	struct hmap_map *map;
	struct hmap_ns *ns;
	u32 id;
	int ret;

	if (hmap_name_check(arg->name, true))
		return ERR_PTR(-EINVAL);
	/*
	 * The image is written through the kernel's mapping and read through
	 * the readers': on a CPU whose data cache can hold the two apart
	 * (those that implement flush_dcache_page()), readers would need
	 * flushes that this module does not make.
	 */
	if (ARCH_IMPLEMENTS_FLUSH_DCACHE_PAGE && (arg->flags & HMAP_F_MMAP))
		return ERR_PTR(-EOPNOTSUPP);
	if (atomic_inc_return(&hmap_nr_maps) > READ_ONCE(hmap_max_maps)) {
		ret = -ENOSPC;
		goto err_count;
	}
	user = hmap_user_get();
	if (IS_ERR(user)) {
		ret = PTR_ERR(user);
		goto err_count;
	}
	p.budget = user ? &user->budget : &hmap_budget;
	ns = hmap_ns_get(true);
	if (IS_ERR(ns)) {
		ret = PTR_ERR(ns);
		goto err_user;
	}

	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map) {
		ret = -ENOMEM;
		goto err_ns;
	}
	map->user = user;
	map->ns = ns;
	ret = hmap_htab_init(&map->htab, &p);
	if (ret)
		goto err_map;
	map->stats = alloc_percpu_gfp(struct hmap_map_stats, GFP_KERNEL_ACCOUNT);
	if (!map->stats) {
		ret = -ENOMEM;
		goto err_htab;
	}
	kref_init(&map->ref);
	INIT_LIST_HEAD(&map->pub_node);
	hmap_expiry_init(map);
	hmap_watch_init(map);
	map->capacity_hint = arg->capacity_hint;
	map->owner_uid = current_fsuid();
	map->owner_gid = current_fsgid();
	memcpy(map->name, arg->name, HMAP_NAME_LEN);
	map->memcg = get_mem_cgroup_from_mm(current->mm);

	/*
	 * Reserve the id with no map behind it, then publish the map once
	 * its id is set: OPEN_BY_ID and GET_NEXT_ID find maps under RCU and
	 * must never see one whose id is still 0.
	 */
	ret = xa_alloc_cyclic(&hmap_ids, &id, NULL, XA_LIMIT(1, INT_MAX),
			      &hmap_ids_next, GFP_KERNEL_ACCOUNT);
	if (ret < 0) {
		ret = ret == -EBUSY ? -ENOSPC : -ENOMEM;
		goto err_memcg;
	}
	map->id = id;
	/* The slot is reserved: storing needs no memory and cannot fail. */
	WARN_ON(xa_err(xa_store(&hmap_ids, id, map, GFP_KERNEL)));
	__module_get(THIS_MODULE);
	atomic_long_inc(&hmap_counters.created);
	return map;

err_memcg:
	mem_cgroup_put(map->memcg);
	free_percpu(map->stats);
err_htab:
	hmap_htab_destroy(&map->htab);
err_map:
	kfree(map);
err_ns:
	hmap_ns_put(ns);
err_user:
	hmap_user_put(user);
err_count:
	atomic_dec(&hmap_nr_maps);
	return ERR_PTR(ret);
}

/**
 * hmap_map_install_fd() - give the caller a new fd for a map
 * @map: the map; the caller's reference passes to the fd on success
 * @flags: HMAP_F_RDONLY or 0
 *
 * Return: the fd, or a negative errno, in which case the caller still owns
 * its reference.
 */
int hmap_map_install_fd(struct hmap_map *map, u32 flags)
{
	int mode = flags & HMAP_F_RDONLY ? O_RDONLY : O_RDWR;

	return anon_inode_getfd("[hmap]", &hmap_map_fops, map, mode | O_CLOEXEC);
}

/**
 * hmap_map_from_file() - the map behind a file, if it is a map fd
 * @filp: any file
 *
 * Return: the map (the file's reference covers the caller's use), or NULL.
 */
struct hmap_map *hmap_map_from_file(struct file *filp)
{
	return filp->f_op == &hmap_map_fops ? filp->private_data : NULL;
}

static struct hmap_map *hmap_find_name(struct hmap_ns *ns, const char *name)
{
	struct hmap_map *map;

	lockdep_assert_held(&hmap_names_lock);
	if (!ns)
		return NULL;
	list_for_each_entry(map, &ns->names, pub_node)
		if (!strcmp(map->pub_name, name))
			return map;
	return NULL;
}

/* File-style permission check of a published name; hmap_names_lock held. */
static bool hmap_may_open(struct hmap_map *map, bool write)
{
	umode_t mode = map->pub_mode, need = write ? 06 : 04;

	if (uid_eq(current_fsuid(), map->pub_uid))
		mode >>= 6;
	else if (in_group_p(map->pub_gid))
		mode >>= 3;
	if ((mode & need) == need)
		return true;
	return hmap_ns_privileged(map->ns, CAP_DAC_OVERRIDE, map->pub_uid,
				  map->pub_gid);
}

/*
 * Whether the caller may remove @map's name: it owns the name or created
 * the map, or has CAP_SYS_ADMIN over the name in its namespace. Moving a
 * name to another map takes the same right, as rename() over a file needs
 * the directory, not the file: a user the name's mode lets write the map's
 * entries may not replace the map, and its owner may replace it whatever
 * the mode.
 */
static bool hmap_may_unpublish(struct hmap_map *map)
{
	return uid_eq(current_fsuid(), map->pub_uid) ||
	       uid_eq(current_fsuid(), map->owner_uid) ||
	       hmap_ns_privileged(map->ns, CAP_SYS_ADMIN, map->pub_uid,
				  map->pub_gid);
}

/**
 * hmap_map_publish() - give a map a name, or point a name at it
 * @map: the map
 * @arg: the checked command: a valid name, mode and flags
 *
 * The name holds a reference until hmap_unpublish(), a replace, or the end
 * of the IPC namespace it lives in, which is the one @map was created in.
 * Only the map's creator (or CAP_SYS_ADMIN there) may publish it: a name
 * keeps the map alive, charged to its creator, so another user with a
 * writable fd must not be able to. With HMAP_PUBLISH_REPLACE the name moves from its map to
 * @map under hmap_names_lock, so that a concurrent lookup of the name finds
 * one map or the other; the old map's watches are told.
 *
 * Return: 0, -EXDEV if the caller is not in @map's IPC namespace, -EPERM
 * if the caller did not create @map, lacks CAP_CHOWN for
 * HMAP_PUBLISH_OWNER, or may not remove the name it replaces; -EINVAL for
 * an unmapped owner or, when replacing, sizes that differ; -EBUSY if @map
 * already has a name; -EEXIST if the name is taken; -ENOENT if there is
 * none to replace.
 */
int hmap_map_publish(struct hmap_map *map, const struct hmap_publish *arg)
{
	bool replace = arg->flags & HMAP_PUBLISH_REPLACE;
	kuid_t uid = current_fsuid();
	kgid_t gid = current_fsgid();
	struct hmap_map *old;
	int ret = 0;

	/* A name lives where its map's ids do, and dies with them. */
	if (!hmap_ns_current_is(map->ns))
		return -EXDEV;
	if (!uid_eq(current_fsuid(), map->owner_uid) &&
	    !hmap_ns_privileged(map->ns, CAP_SYS_ADMIN, map->owner_uid,
				map->owner_gid))
		return -EPERM;
	if (arg->flags & HMAP_PUBLISH_OWNER) {
		uid = make_kuid(current_user_ns(), arg->uid);
		gid = make_kgid(current_user_ns(), arg->gid);
		if (!uid_valid(uid) || !gid_valid(gid))
			return -EINVAL;
		/* As chown(2): CAP_CHOWN where both are mapped. */
		if (!hmap_ns_privileged(map->ns, CAP_CHOWN, uid, gid))
			return -EPERM;
	}
	mutex_lock(&hmap_names_lock);
	old = hmap_find_name(map->ns, arg->name);
	if (map->pub_name[0])
		ret = -EBUSY;
	else if (!replace)
		ret = old ? -EEXIST : 0;
	else if (!old)
		ret = -ENOENT;
	else if (!hmap_may_unpublish(old))
		ret = -EPERM;
	else if (!(arg->flags & HMAP_PUBLISH_ANY_SIZES) &&
		 (old->htab.key_size != map->htab.key_size ||
		  old->htab.value_size != map->htab.value_size))
		ret = -EINVAL;
	if (ret) {
		mutex_unlock(&hmap_names_lock);
		return ret;
	}
	strscpy(map->pub_name, arg->name, HMAP_NAME_LEN);
	kref_get(&map->ref);
	if (replace) {
		map->pub_uid = arg->flags & HMAP_PUBLISH_OWNER ? uid : old->pub_uid;
		map->pub_gid = arg->flags & HMAP_PUBLISH_OWNER ? gid : old->pub_gid;
		map->pub_mode = old->pub_mode;
		list_replace_init(&old->pub_node, &map->pub_node);
		memset(old->pub_name, 0, HMAP_NAME_LEN);
		/* Under the lock: replaces of one map are told in order. */
		hmap_watch_event(old, HMAP_EVENT_REPLACED, map->id);
	} else {
		map->pub_uid = uid;
		map->pub_gid = gid;
		map->pub_mode = arg->mode;
		list_add_tail(&map->pub_node, &map->ns->names);
	}
	mutex_unlock(&hmap_names_lock);
	/* The name's reference: the old map may go now. */
	if (replace)
		hmap_map_put(old);
	return 0;
}

/**
 * hmap_unpublish() - remove a published name of the caller's namespace
 * @name: a checked name
 *
 * Return: 0, -ENOENT if no map has @name, -EPERM if the caller neither owns
 * the name nor created the map, nor has CAP_SYS_ADMIN over it.
 */
int hmap_unpublish(const char *name)
{
	struct hmap_ns *ns = hmap_ns_get(false);
	struct hmap_map *map;
	int ret = 0;

	mutex_lock(&hmap_names_lock);
	map = hmap_find_name(ns, name);
	if (!map)
		ret = -ENOENT;
	else if (!hmap_may_unpublish(map))
		ret = -EPERM;
	if (!ret) {
		list_del_init(&map->pub_node);
		memset(map->pub_name, 0, HMAP_NAME_LEN);
	}
	mutex_unlock(&hmap_names_lock);
	if (ns)
		hmap_ns_put(ns);
	if (!ret)
		hmap_map_put(map);
	return ret;
}

/**
 * hmap_unpublish_all() - remove every name of a namespace that died
 * @ns: the namespace
 *
 * The maps go when their last fd closes, as files unlinked while open.
 */
void hmap_unpublish_all(struct hmap_ns *ns)
{
	struct hmap_map *map;

	/* One at a time: each map leaves the list with its name. */
	for (;;) {
		mutex_lock(&hmap_names_lock);
		map = list_first_entry_or_null(&ns->names, struct hmap_map,
					       pub_node);
		if (map) {
			list_del_init(&map->pub_node);
			memset(map->pub_name, 0, HMAP_NAME_LEN);
		}
		mutex_unlock(&hmap_names_lock);
		if (!map)
			break;
		hmap_map_put(map);
		cond_resched();
	}
}

/**
 * hmap_map_get_by_name() - take a reference to a published map
 * @name: a checked name
 * @write: whether the caller wants to write
 *
 * Return: the map, or ERR_PTR(-ENOENT) or ERR_PTR(-EACCES).
 */
struct hmap_map *hmap_map_get_by_name(const char *name, bool write)
{
	struct hmap_ns *ns = hmap_ns_get(false);
	struct hmap_map *map;

	mutex_lock(&hmap_names_lock);
	map = hmap_find_name(ns, name);
	if (!map)
		map = ERR_PTR(-ENOENT);
	else if (!hmap_may_open(map, write))
		map = ERR_PTR(-EACCES);
	else
		kref_get(&map->ref);
	mutex_unlock(&hmap_names_lock);
	if (ns)
		hmap_ns_put(ns);
	return map;
}

/**
 * hmap_map_get_by_id() - take a reference to a map that is still alive
 * @id: the map's id
 *
 * An id does not keep a map alive: a map whose last reference is gone is
 * not returned even if it has not been freed yet.
 *
 * Return: the map, or ERR_PTR(-ENOENT), also if the map was created in
 * another IPC namespace, or if the caller neither created it nor has
 * CAP_SYS_ADMIN over it: an id must not tell which maps others have.
 */
struct hmap_map *hmap_map_get_by_id(u32 id)
{
	struct hmap_map *map;

	if (id > INT_MAX)
		return ERR_PTR(-ENOENT);
	rcu_read_lock();
	map = xa_load(&hmap_ids, id);
	if (map && !kref_get_unless_zero(&map->ref))
		map = NULL;
	rcu_read_unlock();
	if (!map)
		return ERR_PTR(-ENOENT);
	if (!hmap_ns_current_is(map->ns) ||
	    (!uid_eq(current_fsuid(), map->owner_uid) &&
	     !hmap_ns_privileged(map->ns, CAP_SYS_ADMIN, map->owner_uid,
				 map->owner_gid))) {
		hmap_map_put(map);
		return ERR_PTR(-ENOENT);
	}
	return map;
}

/**
 * hmap_map_next_id() - the first live map id above another that the caller
 * could open by id
 * @start: ids above this are considered
 * @next: set to the id found
 *
 * As OPEN_BY_ID, only maps of the caller's IPC namespace that it created,
 * or every one whose owner is mapped there with CAP_SYS_ADMIN: ids do not
 * tell one user or container what others have.
 *
 * Return: 0, or -ENOENT if there is none.
 */
int hmap_map_next_id(u32 start, u32 *next)
{
	bool admin = hmap_ns_current_admin(CAP_SYS_ADMIN);
	kuid_t uid = current_fsuid();
	struct hmap_map *map;
	unsigned long id;
	int ret = -ENOENT;

	if (start >= INT_MAX)
		return -ENOENT;
	rcu_read_lock();
	xa_for_each_start(&hmap_ids, id, map, start + 1) {
		if (kref_read(&map->ref) && hmap_ns_current_is(map->ns) &&
		    (uid_eq(map->owner_uid, uid) ||
		     (admin && kuid_has_mapping(current_user_ns(), map->owner_uid) &&
		      kgid_has_mapping(current_user_ns(), map->owner_gid)))) {
			*next = id;
			ret = 0;
			break;
		}
	}
	rcu_read_unlock();
	return ret;
}

/**
 * hmap_map_stats_sum() - add up a map's per-CPU counters
 * @map: the map
 * @sum: the result
 */
void hmap_map_stats_sum(struct hmap_map *map, struct hmap_map_stats *sum)
{
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		struct hmap_map_stats *s = per_cpu_ptr(map->stats, cpu);

		sum->lookups += READ_ONCE(s->lookups);
		sum->hits += READ_ONCE(s->hits);
		sum->updates += READ_ONCE(s->updates);
		sum->deletes += READ_ONCE(s->deletes);
		sum->adds += READ_ONCE(s->adds);
		sum->cmpxchgs += READ_ONCE(s->cmpxchgs);
		sum->conflicts += READ_ONCE(s->conflicts);
	}
}

/**
 * hmap_map_get_pub() - a consistent copy of a map's published name and owner
 * @map: the map
 * @name: HMAP_NAME_LEN bytes, empty if unpublished
 * @uid: owner, in the caller's user namespace (the overflow uid if unmapped)
 * @gid: group, in the caller's user namespace
 * @mode: permission bits
 */
void hmap_map_get_pub(struct hmap_map *map, char *name, u32 *uid, u32 *gid,
		      u32 *mode)
{
	mutex_lock(&hmap_names_lock);
	memcpy(name, map->pub_name, HMAP_NAME_LEN);
	*uid = name[0] ? from_kuid_munged(current_user_ns(), map->pub_uid) : 0;
	*gid = name[0] ? from_kgid_munged(current_user_ns(), map->pub_gid) : 0;
	*mode = name[0] ? map->pub_mode : 0;
	mutex_unlock(&hmap_names_lock);
}

/**
 * hmap_map_memcg_enter() - charge what follows to the map's memory cgroup
 * @map: the map
 *
 * Whoever writes to a shared map, the memory belongs to its creator.
 *
 * Return: the previous active memcg, for hmap_map_memcg_exit().
 */
struct mem_cgroup *hmap_map_memcg_enter(struct hmap_map *map)
{
	return set_active_memcg(map->memcg);
}

/**
 * hmap_map_memcg_exit() - end a hmap_map_memcg_enter() scope
 * @old: its return value
 */
void hmap_map_memcg_exit(struct mem_cgroup *old)
{
	set_active_memcg(old);
}

static void hmap_map_show_fdinfo(struct seq_file *m, struct file *filp)
{
	struct hmap_map *map = filp->private_data;
	struct hmap_map_stats st;
	char pub[HMAP_NAME_LEN];
	u32 uid, gid, mode;

	hmap_map_stats_sum(map, &st);
	hmap_map_get_pub(map, pub, &uid, &gid, &mode);
	seq_printf(m, "hmap_id:\t%u\n", map->id);
	seq_printf(m, "name:\t%s\n", map->name);
	seq_printf(m, "published:\t%s\n", pub);
	seq_printf(m, "key_size:\t%u\n", map->htab.key_size);
	seq_printf(m, "value_size:\t%u\n", map->htab.value_size);
	seq_printf(m, "max_entries:\t%u\n", map->htab.max_entries);
	seq_printf(m, "count:\t%u\n", hmap_htab_count(&map->htab));
	seq_printf(m, "map_flags:\t%#x\n", hmap_map_flags(map, filp));
	seq_printf(m, "bytes:\t%llu\n", hmap_htab_mem_bytes(&map->htab));
	seq_printf(m, "buckets:\t%u\n", hmap_htab_buckets(&map->htab));
	seq_printf(m, "mmap_bytes:\t%llu\n",
		   map->htab.image ? map->htab.image->bytes : 0);
	seq_printf(m, "lookups:\t%llu\n", st.lookups);
	seq_printf(m, "hits:\t%llu\n", st.hits);
	seq_printf(m, "updates:\t%llu\n", st.updates);
	seq_printf(m, "deletes:\t%llu\n", st.deletes);
	seq_printf(m, "adds:\t%llu\n", st.adds);
	seq_printf(m, "cmpxchgs:\t%llu\n", st.cmpxchgs);
	seq_printf(m, "conflicts:\t%llu\n", st.conflicts);
	seq_printf(m, "evictions:\t%lu\n",
		   atomic_long_read(&map->htab.stats.evictions));
	seq_printf(m, "expirations:\t%lu\n",
		   atomic_long_read(&map->htab.stats.expirations));
	seq_printf(m, "resizes:\t%lu\n",
		   atomic_long_read(&map->htab.stats.grows) +
		   atomic_long_read(&map->htab.stats.shrinks));
	seq_printf(m, "grows:\t%lu\n", atomic_long_read(&map->htab.stats.grows));
	seq_printf(m, "shrinks:\t%lu\n",
		   atomic_long_read(&map->htab.stats.shrinks));
	seq_printf(m, "tables_installed:\t%lu\n",
		   atomic_long_read(&map->htab.stats.tbl_installs));
	seq_printf(m, "resize_lookups:\t%lu\n",
		   atomic_long_read(&map->htab.stats.resize_lookups));
	seq_printf(m, "locked_reads:\t%lu\n",
		   atomic_long_read(&map->htab.stats.locked_reads));
}

static int hmap_map_release_file(struct inode *inode, struct file *filp)
{
	hmap_map_put(filp->private_data);
	return 0;
}

/*
 * A page of a mapped map's image, on first touch. The image is allocated
 * whole with the map and freed with it, after its last mapping (which holds
 * the file), so the page exists for as long as the mapping; the reference
 * taken here is the mapping's own, dropped when the page is unmapped.
 * Lazily, rather than every page at mmap(): a map of millions of entries
 * costs a reader only the pages its lookups touch, mmap() does not hold the
 * mm's lock for a time the map's size decides, and a page the reader gave
 * up (madvise(MADV_DONTNEED)) comes back on the next touch.
 */
static vm_fault_t hmap_map_fault(struct vm_fault *vmf)
{
	struct hmap_map *map = vmf->vma->vm_file->private_data;
	struct hmap_image *img = map->htab.image;
	struct page *page;

	if (vmf->pgoff >= img->bytes >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	page = vmalloc_to_page((u8 *)hmap_image_vaddr(img) +
			       (vmf->pgoff << PAGE_SHIFT));
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct hmap_map_vm_ops = {
	.fault	= hmap_map_fault,
};

/*
 * mmap() of an HMAP_F_MMAP map: its image (hmap_image.h), read-only, for
 * lookups with no system call. Data, never writable nor executable: not
 * now (EPERM), not later by mprotect() (no VM_MAYWRITE, VM_MAYEXEC), and
 * never grown past the image by mremap() (VM_DONTEXPAND). The mapping holds
 * the file, hence the map, until it is unmapped; fork copies it as any
 * shared mapping.
 */
static int hmap_map_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct hmap_map *map = filp->private_data;
	struct hmap_image *img = map->htab.image;
	unsigned long pages = vma_pages(vma);
	unsigned long img_pages;

	if (!img)
		return -ENODEV;
	if (vma->vm_flags & (VM_WRITE | VM_EXEC))
		return -EPERM;
	img_pages = img->bytes >> PAGE_SHIFT;
	if (vma->vm_pgoff >= img_pages || pages > img_pages - vma->vm_pgoff)
		return -EINVAL;
	/* On 6.3 and later: vm_flags_mod(). */
	vma->vm_flags = (vma->vm_flags | VM_DONTEXPAND | VM_DONTDUMP) &
			~(VM_MAYWRITE | VM_MAYEXEC);
	vma->vm_ops = &hmap_map_vm_ops;
	return 0;
}

static const struct file_operations hmap_map_fops = {
	.owner		= THIS_MODULE,
	.release	= hmap_map_release_file,
	.mmap		= hmap_map_mmap,
	.unlocked_ioctl	= hmap_map_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= hmap_map_show_fdinfo,
	.llseek		= noop_llseek,
};

/* debugfs: every live map, one per line. */
static int hmap_debugfs_maps_show(struct seq_file *m, void *unused)
{
	struct hmap_map *map;
	unsigned long id;

	seq_puts(m, "id\tname\tkey_size\tvalue_size\tmax_entries\tcount\tbytes\trefs\towner_uid\n");
	rcu_read_lock();
	xa_for_each(&hmap_ids, id, map)
		seq_printf(m, "%u\t%s\t%u\t%u\t%u\t%u\t%llu\t%u\t%u\n",
			   map->id, map->name[0] ? map->name : "-",
			   map->htab.key_size, map->htab.value_size,
			   map->htab.max_entries, hmap_htab_count(&map->htab),
			   hmap_htab_mem_bytes(&map->htab), kref_read(&map->ref),
			   from_kuid(&init_user_ns, map->owner_uid));
	rcu_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hmap_debugfs_maps);

static int hmap_debugfs_stats_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "maps_live:\t%d\n", atomic_read(&hmap_nr_maps));
	seq_printf(m, "maps_created:\t%ld\n",
		   atomic_long_read(&hmap_counters.created));
	seq_printf(m, "maps_released:\t%ld\n",
		   atomic_long_read(&hmap_counters.released));
	seq_printf(m, "maps_freed:\t%ld\n",
		   atomic_long_read(&hmap_counters.freed));
	seq_printf(m, "bytes_used:\t%lld\n", atomic64_read(&hmap_budget.used));
	seq_printf(m, "bytes_limit:\t%llu\n", READ_ONCE(*hmap_budget.limit));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hmap_debugfs_stats);

/* debugfs: what each user's maps hold, against the per-user limits. */
static int hmap_debugfs_users_show(struct seq_file *m, void *unused)
{
	struct hmap_user *u;
	int bkt;

	seq_puts(m, "uid\tmaps\tbytes\n");
	mutex_lock(&hmap_users_lock);
	hash_for_each(hmap_users, bkt, u, node)
		seq_printf(m, "%u\t%d\t%lld\n", from_kuid(&init_user_ns, u->uid),
			   atomic_read(&u->maps), atomic64_read(&u->budget.used));
	mutex_unlock(&hmap_users_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hmap_debugfs_users);

/**
 * hmap_debugfs_init() - create /sys/kernel/debug/hmap/{maps,stats}
 *
 * Failure is not fatal: debugfs is for observation only.
 */
void hmap_debugfs_init(void)
{
	hmap_debugfs = debugfs_create_dir("hmap", NULL);
	debugfs_create_file("maps", 0400, hmap_debugfs, NULL,
			    &hmap_debugfs_maps_fops);
	debugfs_create_file("stats", 0400, hmap_debugfs, NULL,
			    &hmap_debugfs_stats_fops);
	debugfs_create_file("users", 0400, hmap_debugfs, NULL,
			    &hmap_debugfs_users_fops);
}

/** hmap_debugfs_exit() - remove the debugfs files */
void hmap_debugfs_exit(void)
{
	debugfs_remove_recursive(hmap_debugfs);
}

/**
 * hmap_maps_init() - set up map bookkeeping at module load
 *
 * Return: 0 or -ENOMEM.
 */
int hmap_maps_init(void)
{
	int ret = hmap_htab_caches_init();

	if (ret)
		return ret;
	hmap_wq = alloc_workqueue("hmap", WQ_UNBOUND, 0);
	if (!hmap_wq) {
		hmap_htab_caches_exit();
		return -ENOMEM;
	}
	return 0;
}

/**
 * hmap_maps_exit() - wait for every map to be freed, at module unload
 *
 * No map is alive (each holds a module reference), but the frees of the
 * last ones may still wait for their grace period or their turn on hmap_wq.
 */
void hmap_maps_exit(void)
{
	/* Every queue_rcu_work() of a map free has queued its work... */
	rcu_barrier();
	/* ...which the drain runs to its end... */
	destroy_workqueue(hmap_wq);
	/*
	 * ...and any RCU callback those frees left (each map waited for its
	 * own, but nothing of this module may run after it is gone).
	 */
	rcu_barrier();
	/*
	 * Each map waited for its own element batches before it was freed, so
	 * the element caches are empty now.
	 */
	hmap_htab_caches_exit();
	WARN_ON(!xa_empty(&hmap_ids));
	xa_destroy(&hmap_ids);
	hmap_ns_exit();
}
