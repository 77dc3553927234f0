// SPDX-License-Identifier: GPL-2.0
/*
 * Namespaces of names and ids: each IPC namespace has its own published
 * names and sees only the ids of maps created in it, as POSIX message
 * queues are per IPC namespace, so that two containers on one host can
 * neither open nor list each other's maps.
 *
 * A module cannot hold an IPC namespace (put_ipc_ns() is not exported) nor
 * hear of its end, so hmap identifies a namespace by its mqueue mount,
 * which it pins with mntget(): a pinned mount is never freed, so its
 * address is never reused by a later namespace, and a dead namespace can
 * never be mistaken for a new one. put_ipc_ns() clears the mount's
 * superblock's s_fs_info when the namespace dies, which is how a reaper
 * tells a dead namespace; it then removes the namespace's names, as the
 * namespace's end removes its message queues, and lets the mount go at
 * once (it holds the namespace's queues and their owners' rlimit
 * charges). The record stays, marked dead, while fds hold maps made in
 * the namespace, and is never matched again.
 *
 * Without CONFIG_POSIX_MQUEUE there is no such mount, and every caller
 * shares one namespace, administered from the initial user namespace.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/ipc_namespace.h>
#include <linux/list.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <linux/workqueue.h>

#include "hmap_priv.h"

/* How often the reaper looks for namespaces that died, while any lives. */
#define HMAP_NS_REAP_INTERVAL	HZ

/*
 * Every hmap_ns, each one's @node and @dead. Never nested with
 * hmap_names_lock.
 */
static LIST_HEAD(hmap_ns_list);
static DEFINE_MUTEX(hmap_ns_lock);

/* Deferrable: an idle host is not woken to look for dead namespaces. */
static void hmap_ns_reap(struct work_struct *work);
static DECLARE_DEFERRABLE_WORK(hmap_ns_reaper, hmap_ns_reap);

static struct vfsmount *hmap_ns_mount(struct ipc_namespace *ipc)
{
#ifdef CONFIG_POSIX_MQUEUE
	return ipc->mq_mnt;
#else
	return NULL;
#endif
}

/* Capabilities over an IPC namespace's maps count in this one. */
static struct user_namespace *hmap_ns_owner(struct ipc_namespace *ipc)
{
	return hmap_ns_mount(ipc) ? ipc->user_ns : &init_user_ns;
}

/*
 * Whether @ns's IPC namespace is gone; the pinned mount keeps the sb
 * alive. hmap_ns_lock held, @ns not yet marked dead.
 */
static bool hmap_ns_gone(const struct hmap_ns *ns)
{
	lockdep_assert_held(&hmap_ns_lock);
	return ns->mnt && !READ_ONCE(ns->mnt->mnt_sb->s_fs_info);
}

static bool hmap_ns_initial(const struct hmap_ns *ns)
{
	return ns->mnt == hmap_ns_mount(init_task.nsproxy->ipc_ns);
}

/**
 * hmap_ns_current_is() - whether the caller lives in a namespace
 * @ns: the namespace
 *
 * Return: true if @ns is the caller's IPC namespace.
 */
bool hmap_ns_current_is(const struct hmap_ns *ns)
{
	/*
	 * A dead record's mount may be freed and its address given to a new
	 * namespace's: compare only while @dead is clear. The mount is freed
	 * an RCU grace period after the reaper set @dead and let it go, so
	 * within this read section a record still seen alive keeps its
	 * address, and the caller's live mount cannot be at it.
	 */
	bool same;

	rcu_read_lock();
	same = !READ_ONCE(ns->dead) &&
	       ns->mnt == hmap_ns_mount(current->nsproxy->ipc_ns);
	rcu_read_unlock();
	return same;
}

/**
 * hmap_ns_current_admin() - whether the caller administers its namespace
 * @cap: the capability
 *
 * Without an audit record: for filters, which ask of every map.
 *
 * Return: true if the caller has @cap in the user namespace that owns its
 * IPC namespace.
 */
bool hmap_ns_current_admin(int cap)
{
	return ns_capable_noaudit(hmap_ns_owner(current->nsproxy->ipc_ns), cap);
}

/**
 * hmap_ns_get() - the caller's namespace
 * @create: make its record if it has none yet
 *
 * Return: a reference to the record of the caller's IPC namespace; NULL if
 * there is none and @create is false; ERR_PTR(-ENOMEM).
 */
struct hmap_ns *hmap_ns_get(bool create)
{
	struct ipc_namespace *ipc = current->nsproxy->ipc_ns;
	struct vfsmount *mnt = hmap_ns_mount(ipc);
	struct hmap_ns *ns;

	mutex_lock(&hmap_ns_lock);
	list_for_each_entry(ns, &hmap_ns_list, node) {
		if (!ns->dead && ns->mnt == mnt) {
			kref_get(&ns->ref);
			goto out;
		}
	}
	if (!create) {
		ns = NULL;
		goto out;
	}
	ns = kzalloc(sizeof(*ns), GFP_KERNEL_ACCOUNT);
	if (!ns) {
		ns = ERR_PTR(-ENOMEM);
		goto out;
	}
	kref_init(&ns->ref);
	INIT_LIST_HEAD(&ns->names);
	ns->mnt = mnt ? mntget(mnt) : NULL;
	ns->user_ns = get_user_ns(hmap_ns_owner(ipc));
	list_add(&ns->node, &hmap_ns_list);
	if (!hmap_ns_initial(ns))
		schedule_delayed_work(&hmap_ns_reaper, HMAP_NS_REAP_INTERVAL);
out:
	mutex_unlock(&hmap_ns_lock);
	return ns;
}

/* Called by kref_put_mutex() with hmap_ns_lock held; unlocks it. */
static void hmap_ns_release(struct kref *ref)
{
	struct hmap_ns *ns = container_of(ref, struct hmap_ns, ref);

	list_del(&ns->node);
	mutex_unlock(&hmap_ns_lock);
	WARN_ON(!list_empty(&ns->names));
	/* A dead record's mount went when it was reaped. */
	if (ns->mnt && !ns->dead)
		mntput(ns->mnt);
	put_user_ns(ns->user_ns);
	kfree(ns);
}

/**
 * hmap_ns_put() - drop a reference from hmap_ns_get()
 * @ns: the record; may be freed, with its pin on the namespace's mount
 */
void hmap_ns_put(struct hmap_ns *ns)
{
	kref_put_mutex(&ns->ref, hmap_ns_release, &hmap_ns_lock);
}

/**
 * hmap_ns_privileged() - whether the caller holds @cap over something of @ns
 * @ns: the namespace the object (a map, a name) lives in
 * @cap: the capability
 * @uid: the object's owner
 * @gid: the object's group
 *
 * An object of an IPC namespace is governed from the user namespace that
 * owns it, as the namespace's message queues and sysctls are: a container's
 * root may act on its own containers' maps with the capability it has
 * there, and never on maps of another IPC namespace, which it cannot even
 * name. As capable_wrt_inode_uidgid(), it also needs the object's owner
 * and group mapped in the caller's user namespace, so that a map the host
 * put into a container's namespace under a host uid stays out of the
 * container root's reach, while the host's root, which maps every uid,
 * keeps its rights over every map it can reach.
 *
 * Return: true if privileged.
 */
bool hmap_ns_privileged(const struct hmap_ns *ns, int cap, kuid_t uid,
			kgid_t gid)
{
	return ns_capable(ns->user_ns, cap) &&
	       kuid_has_mapping(current_user_ns(), uid) &&
	       kgid_has_mapping(current_user_ns(), gid);
}

/*
 * Marks the namespaces that died, a batch at a time, and takes their names
 * and their mounts. A record is reaped once, so records kept by open fds
 * never crowd out the next dead namespace.
 */
static void hmap_ns_reap(struct work_struct *work)
{
	struct hmap_ns *ns, *dead[8];
	bool live = false;
	int i, n;

	do {
		n = 0;
		mutex_lock(&hmap_ns_lock);
		list_for_each_entry(ns, &hmap_ns_list, node) {
			if (ns->dead || hmap_ns_initial(ns))
				continue;
			if (!hmap_ns_gone(ns)) {
				live = true;
				continue;
			}
			if (n == ARRAY_SIZE(dead))
				break;
			WRITE_ONCE(ns->dead, true);
			kref_get(&ns->ref);
			dead[n++] = ns;
		}
		mutex_unlock(&hmap_ns_lock);
		/* Outside hmap_ns_lock: the last map put may free a record. */
		for (i = 0; i < n; i++) {
			hmap_unpublish_all(dead[i]);
			mntput(dead[i]->mnt);
			hmap_ns_put(dead[i]);
		}
		cond_resched();
	} while (n == ARRAY_SIZE(dead));
	if (live)
		schedule_delayed_work(&hmap_ns_reaper, HMAP_NS_REAP_INTERVAL);
}

/**
 * hmap_ns_exit() - stop the reaper at module exit
 *
 * Every map, hence every record, is gone by then: a map holds the module.
 */
void hmap_ns_exit(void)
{
	cancel_delayed_work_sync(&hmap_ns_reaper);
	WARN_ON(!list_empty(&hmap_ns_list));
}
