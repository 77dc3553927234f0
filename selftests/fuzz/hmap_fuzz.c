// SPDX-License-Identifier: GPL-2.0
/*
 * hmap_fuzz: a coverage-guided fuzzer of hmap.ko's ioctls, driven by KCOV.
 *
 * A program is a few ioctls: usually a CREATE or two, then commands on the
 * maps they made and on /dev/hmap. Each call carries the bytes of its
 * argument struct and says how to pass it and the buffers it points to:
 * valid, too short (ending at a PROT_NONE page), NULL, unmapped, read-only,
 * misaligned, straddling a page, a kernel or non-canonical address, or the
 * raw bytes as mutated. The fd is /dev/hmap, a map fd, a read-only fd of a
 * map, a watch fd, a closed fd, /dev/null or a pipe. Programs that reach
 * new edges of hmap.ko (KCOV PCs inside its .text, hashed AFL-style as
 * prev/cur pairs) join the corpus, and new programs are mutations of
 * corpus programs.
 *
 * The parent sets the module's limits low, forks the executor, and watches
 * it. Everything the parent needs once the executor is gone (the corpus,
 * the coverage, the last programs run) lives in MAP_SHARED memory, so a
 * kernel report can be pinned to the program that caused it:
 *
 * - the executor reads /dev/kmsg after every program, so a KASAN, lockdep
 *   or WARN report (none of which kill the task) names the program running;
 * - panic_on_oops is turned off while fuzzing, so an oops kills only the
 *   executor and the parent prints what it was running; the kernel is then
 *   unfit to go on (locks held by a dead task), so the parent powers the VM
 *   off after reporting, as oops=panic would have done without a report;
 * - a real panic (a smashed stack canary, a fault in atomic context) leaves
 *   nothing running: the ring of last programs sits in page-aligned slots
 *   with a magic header, and scripts/fuzz.sh has qemu save guest memory on
 *   panic and runs "hmap_fuzz --extract DUMP" on the host to print them.
 *
 * Without KCOV (Debian's stock kernel) the same generator runs unguided, so
 * that lane still catches crashes; the results say so.
 *
 * Entry versions: UPDATE and DELETE get HMAP_IF_VERSION now and then, with
 * a small number or (idref) the version the program last saw come back
 * on a map, so that the right version meets the entry; struct hmap_elem_op
 * goes both with @version and at its older size without it. ADD works on
 * 4- and 8-byte values, and a CMPXCHG mostly expects the value an earlier
 * call of the program stored, so that it succeeds as often as it fails.
 * Maps are now and then HMAP_F_LRU or HMAP_F_TTL, and UPDATE and ADD give
 * entries a few milliseconds to live, so that they expire within a program.
 * They are also HMAP_F_MMAP, alone or with the other flags (with HMAP_F_LRU
 * or HMAP_F_TTL: EINVAL).
 *
 * Mappings: a pseudo-call mmap()s the fd of a map slot (writable or
 * read-only), or any other fd of the program (/dev/hmap, a watch, ...),
 * with prot and flags from interesting values (PROT_READ, PROT_WRITE,
 * PROT_EXEC and their combinations; MAP_SHARED, MAP_PRIVATE,
 * MAP_SHARED_VALIDATE, with now and then MAP_POPULATE, MAP_LOCKED,
 * MAP_FIXED_NOREPLACE at a hint of its own and others; never MAP_FIXED nor
 * MAP_ANONYMOUS) and a length and an offset relative to the map's image
 * (0, 1 byte, a page, the image, to its end, a page past it, a huge one;
 * 0, a page, the last page, the image's size, unaligned, huge, raw). What
 * mmap() returns is checked against <linux/hmap.h>: no mapping of an image
 * is ever writable or executable, nor reaches past the image, nor exists
 * for a map without HMAP_F_MMAP or for /dev/hmap or a watch; a read-only
 * request within the image maps, one past it is EINVAL, one on a map
 * without an image ENODEV, a writable or executable one EPERM (EACCES for
 * MAP_SHARED on a read-only fd). A mapping made is then read, a byte of
 * every page (a signal there is a violation, caught, not a crash), its
 * header checked against INFO when it maps offset 0; then, as the call
 * says: mprotect() to writable or executable (must fail) and back to
 * readable, madvise() (MADV_DONTNEED mostly) and a second read, mremap()
 * one page larger (must fail) and a page smaller, a write through
 * /proc/self/mem (must fail: it may force a write), an munmap() of its
 * first page first; and it is unmapped, or left mapped to the program's
 * end and read again once the program's fds are closed, which the mapping
 * alone then keeps its map alive for.
 *
 * Watches: WATCH (flags mostly valid, a buffer of the default size, a few
 * pages, HMAP_WATCH_MIN_BYTES or one less, sized from the map's largest
 * record, just under, at and over twice it, or HMAP_WATCH_MAX_BYTES and one
 * more) returns a watch fd, kept in slots watch0..watch3; while fuzzing,
 * max_watch_bytes_per_user and max_watches_per_map are low, for EDQUOT and
 * ENOSPC. Pseudo-calls read one (count 0, 1, around a record header, around
 * the map's own record sizes, a page, 64 KiB and more, into a good or a bad
 * buffer: NULL, unmapped, read-only, short, a kernel address) with the fd
 * made O_NONBLOCK for the read whatever its flags, so that no read ever
 * waits; poll it: poll() with no timeout, or an epoll registration that
 * stays until the watch is gone, so that writers have a waiter to wake;
 * and read its fdinfo (or a map's). close and dup work on watch slots too,
 * and any command may be issued on a watch fd. These properties are
 * checked, and a violation is reported with its program as a kernel report
 * is: a command on a watch fd fails with ENOTTY, WATCH on /dev/hmap with
 * EBADFD; a read returns whole, well-formed records (see check_records())
 * numbered one after the other from the @seq WATCH gave, also across reads
 * that faulted (they lose none), and 0 for 0 bytes; fdinfo agrees with the
 * flags WATCH was given.
 *
 * Every reproducer is printed decoded, call by call, and as a hex line that
 * "hmap_fuzz --replay HEX" runs again.
 *
 * Budget: HMAP_FUZZ_SECONDS (default 75 with KCOV, 20 without) and
 * HMAP_FUZZ_EXECS (ioctls; 0 or unset: no limit), whichever ends first;
 * HMAP_FUZZ_SEED fixes the random seed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/hmap.h>

#include "kselftest.h"

#define offsetofend(t, m)	(offsetof(t, m) + sizeof(((t *)0)->m))

#define KCOV_INIT_TRACE		_IOR('c', 1, unsigned long)
#define KCOV_ENABLE		_IO('c', 100)
#define KCOV_DISABLE		_IO('c', 101)
#define KCOV_TRACE_PC		0
#define KCOV_PATH		"/sys/kernel/debug/kcov"
/* PCs per syscall: a batch over thousands of entries records many. */
#define KCOV_WORDS		(1UL << 18)

#define PARAM_DIR		"/sys/module/hmap/parameters/"
#define FZ_MAX_BYTES		(64ULL << 20)
/* max_watch_bytes_per_user while fuzzing: a few watches reach EDQUOT. */
#define FZ_MAX_WATCH_BYTES	(1024ULL * 1024)
/* max_watches_per_map while fuzzing: a third watch of a map gets ENOSPC. */
#define FZ_MAX_WATCHES		2

#define FZ_MAX_CALLS		16	/* a CREATE costs ms: make programs long */
#define FZ_DATA			208	/* argument bytes kept per call */
#define FZ_NPTR			5	/* pointer fields of the largest struct */
#define FZ_SLOTS		4	/* map fds one program may hold */
#define FZ_WSLOTS		4	/* watch fds one program may hold */
#define FZ_MSLOTS		4	/* mappings one program may keep */
#define FZ_TOUCH_PAGES		4096	/* most pages of a mapping one read touches */
/* MAP_FIXED_NOREPLACE's hint, one region per executor, far from the rest. */
#define FZ_MMAP_HINT		0x300000000000ULL
#define FZ_ARG_MAX		8192	/* memory behind an argument struct */
#define FZ_CORPUS_MAX		4096
#define FZ_RING			16	/* last programs kept for reports */
#define FZ_EDGES		(1U << 16)
#define FZ_TEXT_MAX		(8U << 20)	/* largest .text we map PCs of */
#define FZ_HANG_SECS		60
#define FZ_PROCS_MAX		4	/* executors */
#define FZ_FUZZ_UID		1000

#define PAGE			4096UL
#define SLAB			(256 * 1024UL)	/* one buffer's room */
#define NSLABS			(1 + FZ_NPTR)	/* the struct, then each pointer */

/* How a pointer (to the struct itself or from one of its fields) is made. */
enum {
	P_VALID,	/* right size, page-aligned */
	P_SHORT,	/* px bytes short, ending at a PROT_NONE page */
	P_NULL,
	P_UNMAPPED,	/* never mapped, a guard page, or the end of user space */
	P_RDONLY,	/* right size, in a read-only mapping */
	P_MISALIGN,	/* right size, at an odd offset */
	P_STRADDLE,	/* right size, across a page boundary */
	P_KERNEL,	/* a kernel address */
	P_NONCANON,	/* a non-canonical address */
	P_RAW,		/* whatever the struct bytes say */
	P_NKINDS
};

static const char *const p_names[P_NKINDS] = {
	"valid", "short", "NULL", "unmapped", "read-only", "misaligned",
	"straddling", "kernel", "non-canonical", "raw",
};

enum {
	FD_DEV,		/* /dev/hmap, read-write */
	FD_DEV_RO,	/* /dev/hmap, read-only */
	FD_SLOT,	/* the map fd in a slot */
	FD_SLOT_RO,	/* a read-only fd of a slot's map (OPEN_BY_ID) */
	FD_CLOSED,	/* a number that was an fd and was closed */
	FD_NULLDEV,	/* /dev/null */
	FD_PIPE,	/* a pipe */
	FD_BAD,		/* -1 */
	FD_WATCH,	/* the watch fd in a watch slot */
	FD_NKINDS
};

static const char *const fd_names[FD_NKINDS] = {
	"/dev/hmap", "/dev/hmap(O_RDONLY)", "map", "map(read-only)",
	"closed-fd", "/dev/null", "pipe", "-1", "watch",
};

/* What a pointer field points to, which sizes its buffer. */
enum { R_KEY, R_VALUE, R_KEYS, R_VALUES, R_STATUS };

enum { F_INT, F_PTR, F_NAME };

struct fz_field {
	const char *name;
	uint8_t off;
	uint8_t width;
	uint8_t kind;
	uint8_t role;
};

#define FI(s, f)	{ #f, offsetof(struct s, f), sizeof(((struct s *)0)->f), F_INT, 0 }
#define FP(s, f, r)	{ #f, offsetof(struct s, f), 8, F_PTR, r }
#define FN(s, f)	{ #f, offsetof(struct s, f), HMAP_NAME_LEN, F_NAME, 0 }

static const struct fz_field f_create[] = {
	FI(hmap_create, size), FI(hmap_create, flags),
	FI(hmap_create, key_size), FI(hmap_create, value_size),
	FI(hmap_create, max_entries), FI(hmap_create, capacity_hint),
	FN(hmap_create, name),
};

static const struct fz_field f_elem[] = {
	FI(hmap_elem_op, size), FI(hmap_elem_op, __reserved),
	FI(hmap_elem_op, flags),
	FP(hmap_elem_op, key, R_KEY), FP(hmap_elem_op, value, R_VALUE),
	FI(hmap_elem_op, version), FI(hmap_elem_op, ttl_ms),
};

static const struct fz_field f_next_key[] = {
	FI(hmap_get_next_key, size), FI(hmap_get_next_key, flags),
	FP(hmap_get_next_key, key, R_KEY),
	FP(hmap_get_next_key, next_key, R_KEY),
};

static const struct fz_field f_clear[] = {
	FI(hmap_clear, size), FI(hmap_clear, flags),
};

/* INFO's other fields are written, never read. */
static const struct fz_field f_info[] = {
	FI(hmap_info, size), FI(hmap_info, flags),
};

static const struct fz_field f_publish[] = {
	FI(hmap_publish, size), FI(hmap_publish, mode), FN(hmap_publish, name),
	FI(hmap_publish, flags),
};

static const struct fz_field f_unpublish[] = {
	FI(hmap_unpublish, size), FI(hmap_unpublish, flags),
	FN(hmap_unpublish, name),
};

static const struct fz_field f_open_name[] = {
	FI(hmap_open_by_name, size), FI(hmap_open_by_name, flags),
	FN(hmap_open_by_name, name),
};

static const struct fz_field f_open_id[] = {
	FI(hmap_open_by_id, size), FI(hmap_open_by_id, flags),
	FI(hmap_open_by_id, id), FI(hmap_open_by_id, __reserved),
};

static const struct fz_field f_next_id[] = {
	FI(hmap_get_next_id, size), FI(hmap_get_next_id, start_id),
	FI(hmap_get_next_id, next_id), FI(hmap_get_next_id, __reserved),
};

static const struct fz_field f_batch[] = {
	FI(hmap_batch, size), FI(hmap_batch, flags),
	FI(hmap_batch, elem_flags),
	FP(hmap_batch, in_cursor, R_KEY), FP(hmap_batch, out_cursor, R_KEY),
	FP(hmap_batch, keys, R_KEYS), FP(hmap_batch, values, R_VALUES),
	FP(hmap_batch, status, R_STATUS),
	FI(hmap_batch, count), FI(hmap_batch, __reserved),
};

/* ADD's outputs (old_value, new_value, version) are written, never read. */
static const struct fz_field f_add[] = {
	FI(hmap_add, size), FI(hmap_add, flags),
	FP(hmap_add, key, R_KEY), FI(hmap_add, delta), FI(hmap_add, ttl_ms),
};

/* CMPXCHG's version is written, never read. */
static const struct fz_field f_cmpxchg[] = {
	FI(hmap_cmpxchg, size), FI(hmap_cmpxchg, flags),
	FP(hmap_cmpxchg, key, R_KEY), FP(hmap_cmpxchg, expected, R_VALUE),
	FP(hmap_cmpxchg, desired, R_VALUE),
};

/* WATCH's seq is written, never read. */
static const struct fz_field f_watch[] = {
	FI(hmap_watch, size), FI(hmap_watch, flags),
	FI(hmap_watch, buf_bytes), FI(hmap_watch, __reserved),
};

/* FEATURES only answers: every field after @flags is written. */
static const struct fz_field f_features[] = {
	FI(hmap_features, size), FI(hmap_features, flags),
	FI(hmap_features, __reserved),
};

struct fz_cmd {
	const char *name;
	unsigned long nr;
	unsigned int size;
	unsigned int min_size;		/* the first published size */
	bool dev;			/* issued on /dev/hmap */
	const struct fz_field *fields;
	unsigned int nfields;
	unsigned int weight;		/* how often generated */
};

/* @l: the last field of the first published version, as the kernel's table. */
#define CMD(n, s, d, f, w, l) \
	{ #n, n, sizeof(struct s), offsetofend(struct s, l), d, f, ARRAY_SIZE(f), w }

/* In the order of the HMAP_CMD_* numbers. */
static const struct fz_cmd fz_cmds[] = {
	CMD(HMAP_IOC_CREATE, hmap_create, true, f_create, 3, name),
	CMD(HMAP_IOC_LOOKUP, hmap_elem_op, false, f_elem, 12, value),
	CMD(HMAP_IOC_UPDATE, hmap_elem_op, false, f_elem, 22, value),
	CMD(HMAP_IOC_DELETE, hmap_elem_op, false, f_elem, 7, value),
	CMD(HMAP_IOC_LOOKUP_AND_DELETE, hmap_elem_op, false, f_elem, 7, value),
	CMD(HMAP_IOC_GET_NEXT_KEY, hmap_get_next_key, false, f_next_key, 10, next_key),
	CMD(HMAP_IOC_CLEAR, hmap_clear, false, f_clear, 1, flags),
	CMD(HMAP_IOC_INFO, hmap_info, false, f_info, 4, resizes),
	CMD(HMAP_IOC_PUBLISH, hmap_publish, false, f_publish, 5, name),
	CMD(HMAP_IOC_UNPUBLISH, hmap_unpublish, true, f_unpublish, 3, name),
	CMD(HMAP_IOC_OPEN_BY_NAME, hmap_open_by_name, true, f_open_name, 5, name),
	CMD(HMAP_IOC_OPEN_BY_ID, hmap_open_by_id, true, f_open_id, 4, __reserved),
	CMD(HMAP_IOC_GET_NEXT_ID, hmap_get_next_id, true, f_next_id, 3, __reserved),
	CMD(HMAP_IOC_LOOKUP_BATCH, hmap_batch, false, f_batch, 5, __reserved),
	CMD(HMAP_IOC_LOOKUP_AND_DELETE_BATCH, hmap_batch, false, f_batch, 4, __reserved),
	CMD(HMAP_IOC_UPDATE_BATCH, hmap_batch, false, f_batch, 6, __reserved),
	CMD(HMAP_IOC_DELETE_BATCH, hmap_batch, false, f_batch, 4, __reserved),
	CMD(HMAP_IOC_ADD, hmap_add, false, f_add, 8, ttl_ms),
	CMD(HMAP_IOC_CMPXCHG, hmap_cmpxchg, false, f_cmpxchg, 8, version),
	CMD(HMAP_IOC_LOOKUP_MULTI, hmap_batch, false, f_batch, 5, __reserved),
	CMD(HMAP_IOC_WATCH, hmap_watch, false, f_watch, 5, seq),
	CMD(HMAP_IOC_FEATURES, hmap_features, true, f_features, 1, batch_elem_flags),
};

#define FZ_NCMDS	(ARRAY_SIZE(fz_cmds))

enum {
	C_CREATE, C_LOOKUP, C_UPDATE, C_DELETE, C_LAD, C_NEXT_KEY, C_CLEAR,
	C_INFO, C_PUBLISH, C_UNPUBLISH, C_OPEN_NAME, C_OPEN_ID, C_NEXT_ID,
	C_LBATCH, C_LDBATCH, C_UBATCH, C_DBATCH, C_ADD, C_CMPXCHG, C_LMULTI,
	C_WATCH, C_FEATURES,
};

_Static_assert(FZ_NCMDS == HMAP_CMD_FEATURES - HMAP_CMD_BASE + 1,
	       "one entry per command");

/* Whether command @op takes a struct hmap_elem_op. */
static bool is_elem(unsigned int op)
{
	return op == C_LOOKUP || op == C_UPDATE || op == C_DELETE || op == C_LAD;
}

/* Where command @op's struct has a version the kernel writes back, or 0. */
static unsigned int version_off(unsigned int op)
{
	if (is_elem(op))
		return offsetof(struct hmap_elem_op, version);
	if (op == C_ADD)
		return offsetof(struct hmap_add, version);
	if (op == C_CMPXCHG)
		return offsetof(struct hmap_cmpxchg, version);
	return 0;
}

/*
 * Calls that are not ioctls. For the lifetime of map and watch files (on
 * a map slot, or with fd FD_WATCH on a watch slot): close a slot's fd (its
 * number then refers to nothing, or to whatever opens next), or dup it into
 * a new slot (two fds, one file: a close must not drop the map or end the
 * watch). For watches: read a watch slot's fd, never waiting (run_read()),
 * or poll it with no timeout, by poll() or (argx odd) by an epoll instance
 * of the executor's that it stays registered with. And read a slot's
 * /proc/self/fdinfo (show_fdinfo of a map or a watch). And mmap() an fd
 * (run_mmap(), struct fz_mmap). They do not count as executions, but have
 * rows of their own in the results.
 */
#define OP_CLOSE	FZ_NCMDS
#define OP_DUP		(FZ_NCMDS + 1)
#define OP_READ		(FZ_NCMDS + 2)
#define OP_POLL		(FZ_NCMDS + 3)
#define OP_FDINFO	(FZ_NCMDS + 4)
#define OP_MMAP		(FZ_NCMDS + 5)
#define FZ_NOPS		(FZ_NCMDS + 6)

static const char *const pseudo_names[FZ_NOPS - FZ_NCMDS] = {
	"close", "dup", "read(watch)", "poll(watch)", "fdinfo", "mmap",
};

static const unsigned int pseudo_weight[FZ_NOPS - FZ_NCMDS] = { 2, 2, 6, 2, 1, 4 };

/*
 * OP_MMAP's parameters, in fz_call.data: mmap(NULL, or with
 * MAP_FIXED_NOREPLACE a hint, length, @prot, @flags, the call's fd,
 * offset), the length (ML_*) and the offset (MO_*) relative to the image of
 * the map the fd is at run time (&hmap_info.mmap_bytes; 0 for any other
 * fd), then, if it maps, what @then says (MT_*).
 */
struct fz_mmap {
	uint32_t prot;
	uint32_t flags;		/* MAP_FIXED and MAP_ANONYMOUS are cleared */
	uint8_t len;
	uint8_t off;
	uint8_t then;
	uint8_t advice;		/* index into fz_advice[], for MT_MADVISE */
	uint32_t pad;
	uint64_t raw_len;	/* ML_RAW */
	uint64_t raw_off;	/* MO_RAW */
};

_Static_assert(sizeof(struct fz_mmap) <= FZ_DATA, "FZ_DATA holds an mmap");

enum {
	ML_IMAGE, ML_REST, ML_PAGE, ML_ONE, ML_ZERO, ML_REST_PLUS, ML_IMAGE_PLUS,
	ML_IMAGE_MINUS, ML_HUGE, ML_RAW, ML_N
};

static const char *const ml_names[ML_N] = {
	"image", "image - off", "4096", "1", "0", "image - off + 4096",
	"image + 4096", "image - 1", "1 << 40", "raw",
};

enum { MO_ZERO, MO_PAGE, MO_LAST, MO_IMAGE, MO_UNALIGNED, MO_HUGE, MO_RAW, MO_N };

static const char *const mo_names[MO_N] = {
	"0", "4096", "image - 4096", "image", "2048", "1 << 44", "raw",
};

#define MT_TOUCH	0x01	/* read a byte of every page (if it is readable) */
#define MT_MPROTECT	0x02	/* mprotect() writable, executable (must fail), readable */
#define MT_MADVISE	0x04	/* madvise(fz_advice[advice]), then read every page again */
#define MT_MREMAP	0x08	/* mremap() a page larger (must fail), a page smaller */
#define MT_PROCMEM	0x10	/* write a byte through /proc/self/mem (must fail) */
#define MT_KEEP		0x20	/* keep it to the program's end, read it after the fds close */
#define MT_SPLIT	0x40	/* munmap() its first page first */
#define MT_ALL		0x7f

#ifndef PROT_SEM
#define PROT_SEM		0x8
#endif
#ifndef MADV_COLD
#define MADV_COLD		20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT		21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif

/* Never MADV_HWPOISON nor MADV_SOFT_OFFLINE: they would take the pages. */
static const struct { int advice; const char *name; } fz_advice[] = {
	{ MADV_DONTNEED, "MADV_DONTNEED" }, { MADV_DONTNEED, "MADV_DONTNEED" },
	{ MADV_DONTNEED, "MADV_DONTNEED" }, { MADV_WILLNEED, "MADV_WILLNEED" },
	{ MADV_NORMAL, "MADV_NORMAL" }, { MADV_RANDOM, "MADV_RANDOM" },
	{ MADV_SEQUENTIAL, "MADV_SEQUENTIAL" }, { MADV_COLD, "MADV_COLD" },
	{ MADV_PAGEOUT, "MADV_PAGEOUT" }, { MADV_REMOVE, "MADV_REMOVE" },
	{ MADV_FREE, "MADV_FREE" }, { MADV_DONTFORK, "MADV_DONTFORK" },
	{ MADV_DOFORK, "MADV_DOFORK" }, { MADV_DONTDUMP, "MADV_DONTDUMP" },
	{ MADV_DODUMP, "MADV_DODUMP" }, { MADV_MERGEABLE, "MADV_MERGEABLE" },
	{ MADV_HUGEPAGE, "MADV_HUGEPAGE" }, { MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE" },
	{ MADV_POPULATE_READ, "MADV_POPULATE_READ" },
	{ MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE" },
	{ MADV_COLLAPSE, "MADV_COLLAPSE" },
};

/*
 * Every struct's input fits; INFO's last field (mmap_bytes) is written
 * back only, and past FZ_DATA a struct's bytes are zero but for tail_val.
 */
_Static_assert(offsetof(struct hmap_info, mmap_bytes) <= FZ_DATA,
	       "FZ_DATA holds any struct's input");

/* One ioctl of a program. Plain bytes: programs are copied and hex-dumped. */
struct fz_call {
	uint8_t op;		/* layout and command: index into fz_cmds */
	uint8_t fd;		/* FD_* */
	uint8_t slot;		/* for FD_SLOT, FD_SLOT_RO */
	uint8_t argp;		/* P_* of the struct itself */
	uint8_t idref;		/* 1 + slot whose id (OPEN_BY_ID, GET_NEXT_ID) or
				 * last version (UPDATE, DELETE) to use
				 */
	uint8_t as_user;	/* issue it as uid FZ_FUZZ_UID, no capabilities */
	uint8_t tail_val;	/* byte at tail_off, past FZ_DATA */
	uint8_t aux;		/* WATCH's buf_bytes, OP_READ's count: 0 as
				 * the call says, else a size taken at run time
				 * from the map's records (rel_size())
				 */
	uint16_t len;		/* bytes of memory behind the struct */
	uint16_t argx;		/* P_SHORT: bytes missing; else a variant */
	uint16_t tail_off;
	uint16_t pad1;
	uint32_t nr;		/* ioctl number; 0: the command's own */
	uint8_t pkind[FZ_NPTR];	/* P_* per pointer field, in field order */
	uint8_t pfill[FZ_NPTR];	/* content of each buffer, see fill_elems() */
	uint16_t px[FZ_NPTR];	/* as argx, per pointer */
	uint8_t data[FZ_DATA];	/* the struct's bytes; pointers set at run time;
				 * OP_READ: the count, a u32
				 */
};

struct fz_prog {
	uint32_t ncalls;
	uint32_t pad;
	struct fz_call call[FZ_MAX_CALLS];
};

static bool is_pseudo(const struct fz_call *c)
{
	return c->op >= FZ_NCMDS;
}

/* A pseudo-call's operation: an unknown number (from a replay) dups. */
static unsigned int pseudo_op(const struct fz_call *c)
{
	return c->op < FZ_NOPS ? c->op : OP_DUP;
}

/* Whether call @c works on a watch slot rather than a map slot. */
static bool on_watch(const struct fz_call *c)
{
	return c->fd % FD_NKINDS == FD_WATCH;
}

/* Bytes of the record of a change with @ks bytes of key and @vs of value. */
static unsigned int rec_bytes(unsigned int ks, unsigned int vs)
{
	return (sizeof(struct hmap_event) + ks + vs + 7) & ~7U;
}

/*
 * The sizes a call may take from the records of the map it is on (@ks,
 * @vs): 1-3 for WATCH's buffer, around the smallest one allowed (twice the
 * largest record); 4-10 for a read, around one record and two.
 */
#define REL_WATCH	3
#define REL_READ	7

static const char *const rel_names[1 + REL_WATCH + REL_READ] = {
	"", "2 * the largest record - 1", "2 * the largest record",
	"2 * the largest record + 1", "a key-only record - 1",
	"a key-only record", "a key-only record + 1", "the largest record - 1",
	"the largest record", "the largest record + 1", "2 key-only records",
};

static unsigned int rel_size(unsigned int aux, unsigned int ks, unsigned int vs)
{
	unsigned int key = rec_bytes(ks, 0), full = rec_bytes(ks, vs);

	switch (aux) {
	case 1:
		return 2 * full - 1;
	case 2:
		return 2 * full;
	case 3:
		return 2 * full + 1;
	case 4:
		return key - 1;
	case 5:
		return key;
	case 6:
		return key + 1;
	case 7:
		return full - 1;
	case 8:
		return full;
	case 9:
		return full + 1;
	default:
		return 2 * key;
	}
}

#define FZ_RING_MAGIC	"hmap-fuzz-ring:1"

/* One page each, so that a dump of guest memory can be searched for them. */
struct fz_ring_slot {
	char magic[16];
	uint64_t nonce;		/* this run's */
	uint64_t seq;		/* program number, from 1 */
	int32_t cur;		/* call running, or -1 when the program is done */
	int32_t ret[FZ_MAX_CALLS];	/* result: >= 0, or -errno */
	struct fz_prog prog;
} __attribute__((aligned(PAGE)));

_Static_assert(sizeof(struct fz_ring_slot) == 4096, "one page per ring slot");

/* Errnos counted one by one (ESTALE is 116); a larger one counts as the last. */
#define FZ_ERRNOS		128

/* What the executors and the parent share. */
struct fz_shm {
	uint64_t execs;		/* fuzzed ioctls issued, by all executors */
	uint64_t progs;		/* programs started: the last one's number */
	uint64_t pexecs[FZ_PROCS_MAX];	/* per executor, to tell a hang */
	uint64_t text_lo, text_len, kcov_adjust;
	uint32_t nprocs;
	uint32_t corpus_n;
	uint32_t corpus_lock;
	uint32_t nedges, npcs;
	uint32_t kcov;		/* 1: coverage-guided */
	uint32_t stop;		/* every executor stops after its program */
	uint32_t splat;		/* an executor saw a kernel report */
	unsigned int failed_check;	/* 1 + the executor whose check failed */
	uint32_t seeds, seeds_kept;	/* programs of HMAP_FUZZ_CORPUS */
	char splat_line[256];
	char check_line[300];	/* what the failed check saw */
	char kcov_note[256];
	/* Per executor and command or pseudo-call: successes, then errnos. */
	uint64_t results[FZ_PROCS_MAX][FZ_NOPS][FZ_ERRNOS];
	double secs[FZ_PROCS_MAX][FZ_NOPS];	/* time in each */
	uint8_t edges[FZ_EDGES];
	uint8_t pcs[FZ_TEXT_MAX / 8];
	struct fz_prog corpus[FZ_CORPUS_MAX];
};

static struct fz_shm *shm;
static struct fz_ring_slot *rings;	/* FZ_RING per executor */
static unsigned int me;			/* this executor's number */
static pid_t pids[FZ_PROCS_MAX];

/* Budget */
static double budget_secs;
static uint64_t budget_execs;
static uint64_t seed;

/* ---- randomness ---- */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

static bool one_in(uint32_t n)
{
	return rnd(n) == 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- argument generation ---- */

/* A few names, so that PUBLISH, OPEN_BY_NAME and UNPUBLISH meet. */
static const char *const fz_names[] = {
	"a", "fz", "fz.0", "fz-1", "Fz_2", "a.b-c_D9",
	"0123456789012345678901234567890",	/* 31: the longest */
	/* Then invalid ones. */
	"", "bad name", "a/b", "\xff", "caf\xc3\xa9", "x\n", "\x80",
};

#define FZ_VALID_NAMES	7

static const uint64_t interesting[] = {
	0, 1, 2, 3, 4, 7, 8, 9, 16, 31, 32, 33, 63, 64, 100, 127, 128, 255,
	256, 257, 511, 512, 513, 1023, 1024, 4095, 4096, 4097, 65535, 65536,
	65537, HMAP_MAX_ENTRIES - 1, HMAP_MAX_ENTRIES, HMAP_MAX_ENTRIES + 1,
	0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x100000000ULL,
	~0ULL, 0x8000000000000000ULL,
};

static uint64_t pick_interesting(void)
{
	return interesting[rnd(ARRAY_SIZE(interesting))];
}

static uint64_t get_field(const struct fz_call *c, const struct fz_field *f)
{
	uint64_t v = 0;

	memcpy(&v, c->data + f->off, f->width > 8 ? 8 : f->width);
	return v;
}

static void set_field(struct fz_call *c, const struct fz_field *f, uint64_t v)
{
	memcpy(c->data + f->off, &v, f->width);
}

static const struct fz_field *field(const struct fz_call *c, const char *name)
{
	const struct fz_cmd *cmd = &fz_cmds[c->op % FZ_NCMDS];
	unsigned int i;

	for (i = 0; i < cmd->nfields; i++)
		if (!strcmp(cmd->fields[i].name, name))
			return &cmd->fields[i];
	return NULL;
}

static void set(struct fz_call *c, const char *name, uint64_t v)
{
	const struct fz_field *f = field(c, name);

	if (f)
		set_field(c, f, v);
}

/* Index of a pointer field among the struct's pointer fields, or -1. */
static int ptr_index(const struct fz_call *c, const char *name)
{
	const struct fz_cmd *cmd = &fz_cmds[c->op % FZ_NCMDS];
	unsigned int i;
	int n = 0;

	for (i = 0; i < cmd->nfields; i++) {
		if (cmd->fields[i].kind != F_PTR)
			continue;
		if (!strcmp(cmd->fields[i].name, name))
			return n;
		n++;
	}
	return -1;
}

static void set_ptr(struct fz_call *c, const char *name, int kind)
{
	int i = ptr_index(c, name);

	if (i >= 0)
		c->pkind[i] = kind;
}

static void set_name(struct fz_call *c, const struct fz_field *f)
{
	const char *n = fz_names[one_in(8) ? rnd(ARRAY_SIZE(fz_names)) :
				 rnd(FZ_VALID_NAMES)];
	char *p = (char *)c->data + f->off;

	memset(p, 0, HMAP_NAME_LEN);
	memcpy(p, n, strlen(n));
	switch (rnd(32)) {
	case 0:		/* no NUL at all */
		memset(p, 'A', HMAP_NAME_LEN);
		break;
	case 1:		/* garbage after the NUL */
		p[HMAP_NAME_LEN - 1 - rnd(8)] = 'x';
		break;
	case 2:
		p[rnd(HMAP_NAME_LEN)] = rnd64();
		break;
	}
}

/* Sizes around the 4/8-byte fast paths, the stack bounce and the limits. */
static uint32_t pick_key_size(void)
{
	static const uint32_t ks[] = {
		1, 2, 3, 4, 4, 5, 8, 8, 8, 12, 16, 32, 64, 100, 128, 200, 248,
		255, 256, 257, 300, 511, 512,
	};

	return ks[rnd(ARRAY_SIZE(ks))];
}

static uint32_t pick_value_size(void)
{
	static const uint32_t vs[] = {
		1, 3, 4, 4, 8, 8, 8, 16, 24, 64, 100, 248, 256,
	};

	static const uint32_t big[] = { 1000, 4096, 65536 };

	/* Big values cost time in every copy: now and then only. */
	if (one_in(16))
		return big[rnd(ARRAY_SIZE(big))];
	return vs[rnd(ARRAY_SIZE(vs))];
}

static uint32_t pick_count(void)
{
	static const uint32_t cs[] = {
		1, 1, 2, 3, 4, 8, 16, 33, 64, 0,
	};

	/* Big batches cost time: now and then only. */
	if (one_in(16))
		return one_in(2) ? 100 : 1000;
	return cs[rnd(ARRAY_SIZE(cs))];
}

/* A delta for ADD: small either way, a boundary, or anything. */
static uint64_t pick_delta(void)
{
	switch (rnd(4)) {
	case 0:
		return pick_interesting();
	case 1:
		return -pick_interesting();
	case 2:
		return rnd64();
	default:
		return (uint64_t)(int64_t)(rnd(17) - 8);
	}
}

/* A time to live: a few ms, so that entries expire within a program, or a limit. */
static uint64_t pick_ttl(void)
{
	if (one_in(4))
		return one_in(2) ? HMAP_MAX_TTL_MS + rnd(2) : pick_interesting();
	return 1 + rnd(20);
}

/*
 * HMAP_IF_VERSION wants the entry's version: mostly the one the program
 * last saw come back on map @slot (idref), else a small number, as the
 * first versions of a map are.
 */
static void pick_version(struct fz_call *c, unsigned int slot)
{
	c->idref = one_in(4) ? 0 : 1 + slot;
	if (!c->idref)
		set(c, "version", one_in(4) ? pick_interesting() : 1 + rnd(32));
}

/* Mostly 4 distinct keys, so that lookups find what updates put. */
static uint8_t pick_fill(void)
{
	return one_in(8) ? 0x80 | rnd(0x80) : one_in(4) ? rnd(16) : rnd(4);
}

/* WATCH's buffer: mostly valid sizes, some around the limits. */
static void pick_watch_bytes(struct fz_call *c)
{
	switch (rnd(12)) {
	case 0:
	case 1:
	case 2:
		break;		/* 0: HMAP_WATCH_DEFAULT_BYTES */
	case 3:
	case 4:
	case 5:		/* 4 KiB to 64 KiB */
		set(c, "buf_bytes", (4096U << rnd(5)) + (one_in(8) ? 1 : 0));
		break;
	case 6:		/* the smallest: overflows soonest */
		set(c, "buf_bytes", HMAP_WATCH_MIN_BYTES - (one_in(4) ? 1 : 0));
		break;
	case 7:
	case 8:
		c->aux = 1 + rnd(REL_WATCH);
		break;
	case 9:		/* the largest buffer costs a vmalloc: now and then */
		set(c, "buf_bytes", one_in(8) ? HMAP_WATCH_MAX_BYTES + rnd(2) :
		    HMAP_WATCH_DEFAULT_BYTES + (one_in(2) ? 1 : 0));
		break;
	case 10:
		set(c, "buf_bytes", HMAP_WATCH_MAX_BYTES + 1 + rnd64() % 0x7fffffff);
		break;
	default:
		set(c, "buf_bytes", pick_interesting());
		break;
	}
}

static const unsigned int read_counts[] = {
	0, 1, 8, 39, 40, 41, 47, 48, 49, 56, 64, 100, 4095, 4096, 4096, 4097,
	8192, 65536, 65537, 131072, SLAB, SLAB + 1, 1U << 20, 0xffffffff,
};

/* A read's count, and now and then a bad buffer. */
static void gen_read(struct fz_call *c)
{
	unsigned int count = 4096;

	c->argp = P_VALID;
	c->aux = 0;
	switch (rnd(4)) {
	case 0:
		c->aux = 1 + REL_WATCH + rnd(REL_READ);
		break;
	case 1:
		count = read_counts[rnd(ARRAY_SIZE(read_counts))];
		break;
	default:	/* a page or 64 KiB, which take whatever waits */
		count = one_in(2) ? 4096 : 65536;
		break;
	}
	memcpy(c->data, &count, sizeof(count));
	if (one_in(6)) {
		/* NULL, unmapped, read-only, short, kernel: EFAULT */
		c->argp = rnd(P_NKINDS - 1);
		c->argx = one_in(2) ? 1 + rnd(8) : rnd(0x10000);
	}
}

/* mmap()'s prot: mostly PROT_READ, the only one an image takes. */
static uint32_t pick_prot(void)
{
	static const uint32_t prots[] = {
		PROT_READ, PROT_NONE, PROT_WRITE, PROT_EXEC, PROT_READ | PROT_WRITE,
		PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC,
		PROT_READ | PROT_WRITE | PROT_EXEC, PROT_WRITE | PROT_EXEC,
		PROT_READ | PROT_SEM, PROT_READ | PROT_GROWSDOWN,
	};

	if (one_in(16))
		return rnd64();
	return one_in(2) ? PROT_READ : prots[rnd(ARRAY_SIZE(prots))];
}

/* mmap()'s flags: shared or private, now and then with more (never MAP_FIXED). */
static uint32_t pick_map_flags(void)
{
	static const uint32_t base[] = {
		MAP_SHARED, MAP_SHARED, MAP_PRIVATE, MAP_PRIVATE, MAP_SHARED_VALIDATE,
		0,	/* neither: EINVAL */
	};
	static const uint32_t more[] = {
		MAP_POPULATE, MAP_POPULATE, MAP_LOCKED, MAP_NORESERVE, MAP_NONBLOCK,
		MAP_FIXED_NOREPLACE, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_SYNC,
		MAP_HUGETLB, MAP_32BIT, MAP_STACK, MAP_DENYWRITE, MAP_EXECUTABLE,
	};
	uint32_t f = one_in(2) ? MAP_SHARED : base[rnd(ARRAY_SIZE(base))];

	if (one_in(3))
		f |= more[rnd(ARRAY_SIZE(more))];
	if (one_in(16))
		f |= rnd64();
	return f & ~(MAP_FIXED | MAP_ANONYMOUS);
}

/* An mmap(): mostly of the map's fd, the whole image, then a touch. */
static void gen_mmap(struct fz_call *c, unsigned int wslot)
{
	struct fz_mmap m = { 0 };

	switch (rnd(16)) {
	case 0:
	case 1:
		c->fd = FD_SLOT_RO;
		break;
	case 2:
		c->fd = one_in(2) ? FD_DEV : FD_DEV_RO;
		break;
	case 3:
		c->fd = FD_WATCH;
		c->slot = wslot;
		break;
	case 4:
		c->fd = rnd(FD_NKINDS);
		if (c->fd == FD_WATCH)
			c->slot = wslot;
		break;
	}
	if (one_in(3)) {
		/* What a reader does, so that what follows runs often. */
		m.prot = PROT_READ;
		m.flags = one_in(3) ? MAP_PRIVATE : MAP_SHARED;
		m.len = one_in(4) ? ML_REST : ML_IMAGE;
		m.off = one_in(4) ? MO_LAST : MO_ZERO;
	} else {
		m.prot = pick_prot();
		m.flags = pick_map_flags();
		m.len = one_in(2) ? ML_IMAGE : rnd(ML_N);
		m.off = one_in(2) ? MO_ZERO : rnd(MO_N);
	}
	m.raw_len = one_in(2) ? pick_interesting() : rnd64();
	m.raw_off = one_in(2) ? pick_interesting() : rnd64();
	m.then = (one_in(8) ? 0 : MT_TOUCH) | (rnd64() & MT_ALL & ~MT_TOUCH);
	m.advice = rnd(ARRAY_SIZE(fz_advice));
	memcpy(c->data, &m, sizeof(m));
}

/* One parameter of an mmap(), or its fd. */
static void mutate_mmap(struct fz_call *c)
{
	struct fz_mmap m;

	memcpy(&m, c->data, sizeof(m));
	switch (rnd(8)) {
	case 0:
		m.prot = pick_prot();
		break;
	case 1:
		m.flags = pick_map_flags();
		break;
	case 2:		/* a bit more or less (MAP_FIXED stays out at run time) */
		m.flags ^= 1U << rnd(32);
		break;
	case 3:
		m.len = rnd(ML_N);
		m.raw_len = one_in(2) ? pick_interesting() : m.raw_len + (one_in(2) ? 1 : -1);
		break;
	case 4:
		m.off = rnd(MO_N);
		m.raw_off = one_in(2) ? pick_interesting() : m.raw_off + (one_in(2) ? PAGE : -PAGE);
		break;
	case 5:
		m.then ^= 1U << rnd(7);
		break;
	case 6:
		m.advice = rnd(ARRAY_SIZE(fz_advice));
		break;
	default:
		c->fd = rnd(FD_NKINDS);
		c->slot = rnd(c->fd == FD_WATCH ? FZ_WSLOTS : FZ_SLOTS);
		break;
	}
	memcpy(c->data, &m, sizeof(m));
}

/*
 * A well-formed call of command @op, aimed at map slot @slot; a pseudo-call
 * on a watch may be aimed at watch slot @wslot instead.
 */
static void gen_call(struct fz_call *c, unsigned int op, unsigned int slot, unsigned int wslot)
{
	static const char *const create_fields[] = {
		"flags", "key_size", "value_size", "max_entries", "capacity_hint",
	};
	static const uint32_t modes[] = { 0600, 0644, 0666, 0400, 0 };
	const struct fz_cmd *cmd = &fz_cmds[op % FZ_NCMDS];
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->op = op;
	if (op >= FZ_NCMDS) {
		c->fd = FD_SLOT;
		c->slot = slot;
		if (op == OP_MMAP) {
			gen_mmap(c, wslot);
			return;
		}
		if (op == OP_READ || op == OP_POLL || (op == OP_FDINFO ? !one_in(3) : one_in(3))) {
			c->fd = FD_WATCH;
			c->slot = wslot;
		}
		if (op == OP_READ)
			gen_read(c);
		else if (op == OP_POLL)
			c->argx = rnd(2);
		return;
	}
	c->fd = cmd->dev ? FD_DEV : FD_SLOT;
	c->slot = slot;
	c->argp = P_VALID;
	c->len = cmd->size;
	set(c, "size", cmd->size);
	for (i = 0; i < FZ_NPTR; i++) {
		c->pkind[i] = P_VALID;
		c->pfill[i] = pick_fill();
	}
	switch (op) {
	case C_CREATE: {
		uint32_t me = 1 + rnd(one_in(8) ? 2048 : 64);

		set(c, "flags", (one_in(6) ? HMAP_F_PREALLOC : 0) |
		    (one_in(10) ? HMAP_F_RDONLY : 0) | (one_in(8) ? HMAP_F_LRU : 0) |
		    (one_in(8) ? HMAP_F_TTL : 0) | (one_in(5) ? HMAP_F_MMAP : 0));
		set(c, "key_size", pick_key_size());
		set(c, "value_size", pick_value_size());
		set(c, "max_entries", me);
		set(c, "capacity_hint", one_in(2) ? 0 : rnd(me + 1));
		if (one_in(2))
			set_name(c, field(c, "name"));
		/* Now and then one field out of range (mutations do the rest). */
		if (one_in(8))
			set(c, create_fields[rnd(ARRAY_SIZE(create_fields))], pick_interesting());
		break;
	}
	case C_UPDATE:
		set(c, "flags", one_in(16) ? rnd64() : rnd(3) | (one_in(4) ? HMAP_IF_VERSION : 0));
		if (get_field(c, field(c, "flags")) & HMAP_IF_VERSION)
			pick_version(c, slot);
		if (one_in(8))	/* EINVAL but in an HMAP_F_TTL map */
			set(c, "ttl_ms", pick_ttl());
		break;
	case C_DELETE:
		set_ptr(c, "value", P_NULL);
		if (one_in(3)) {
			set(c, "flags", HMAP_IF_VERSION);
			pick_version(c, slot);
		}
		break;
	case C_ADD:
		set(c, "flags", one_in(16) ? rnd64() : one_in(4) ? 0 : HMAP_ADD_CREATE);
		set(c, "delta", pick_delta());
		if (one_in(8))
			set(c, "ttl_ms", pick_ttl());
		break;
	case C_CMPXCHG:
		if (one_in(16))
			set(c, "flags", 1 + rnd(3));
		break;
	case C_LMULTI:
		set(c, "count", pick_count());
		if (one_in(16))
			set(c, "flags", 1);
		if (!one_in(16))
			set_ptr(c, "in_cursor", P_NULL);
		if (!one_in(16))
			set_ptr(c, "out_cursor", P_NULL);
		if (one_in(16))
			set_ptr(c, "status", P_NULL);
		break;
	case C_NEXT_KEY:
		if (one_in(2))
			set_ptr(c, "key", P_NULL);
		break;
	case C_WATCH:
		set(c, "flags", one_in(16) ? (one_in(2) ? rnd64() : 4U << rnd(30)) : rnd(4));
		pick_watch_bytes(c);
		if (one_in(16))
			set(c, "__reserved", one_in(2) ? 1 : pick_interesting());
		/* Read-only fds may watch; /dev/hmap and a watch fd may not. */
		if (one_in(4))
			c->fd = FD_SLOT_RO;
		else if (one_in(16))
			c->fd = one_in(2) ? FD_DEV : FD_DEV_RO;
		else if (one_in(16))
			c->fd = FD_WATCH;
		break;
	case C_PUBLISH:
		set(c, "mode", one_in(8) ? rnd(01000) : modes[rnd(ARRAY_SIZE(modes))]);
		set_name(c, field(c, "name"));
		/* Taking a name from a map: its watches get a REPLACED record. */
		if (one_in(4)) {
			set(c, "flags", HMAP_PUBLISH_REPLACE |
			    (one_in(2) ? HMAP_PUBLISH_ANY_SIZES : 0));
			if (!one_in(8))
				set(c, "mode", 0);
		}
		break;
	case C_UNPUBLISH:
	case C_OPEN_NAME:
		set_name(c, field(c, "name"));
		if (op == C_OPEN_NAME)
			set(c, "flags", rnd(2));
		break;
	case C_OPEN_ID:
		set(c, "flags", rnd(2));
		c->idref = one_in(8) ? 0 : 1 + slot;
		if (!c->idref)
			set(c, "id", pick_interesting());
		break;
	case C_NEXT_ID:
		c->idref = one_in(2) ? 0 : 1 + slot;
		break;
	case C_FEATURES:
		if (one_in(8))
			set(c, one_in(2) ? "flags" : "__reserved", pick_interesting());
		break;
	case C_LBATCH:
	case C_LDBATCH:
		set(c, "count", pick_count());
		if (one_in(2))
			set_ptr(c, "in_cursor", P_NULL);
		if (one_in(4))
			set_ptr(c, "out_cursor", P_NULL);
		set_ptr(c, "status", P_NULL);
		break;
	case C_UBATCH:
	case C_DBATCH:
		set(c, "count", pick_count());
		set(c, "flags", rnd(2));
		if (op == C_UBATCH)
			set(c, "elem_flags", rnd(3));
		else
			set_ptr(c, "values", P_NULL);
		set_ptr(c, "in_cursor", P_NULL);
		set_ptr(c, "out_cursor", P_NULL);
		if (one_in(2))
			set_ptr(c, "status", P_NULL);
		break;
	}
	/* Now and then a struct hmap_elem_op as built before @version. */
	if (is_elem(op) && one_in(8)) {
		c->len = cmd->min_size;
		set(c, "size", cmd->min_size);
	}
	/* Now and then a map command on a watch fd: ENOTTY. */
	if (!cmd->dev && op != C_WATCH && one_in(64)) {
		c->fd = FD_WATCH;
		c->slot = wslot;
	}
}

static unsigned int pick_op(void)
{
	unsigned int total = 0, i, r;

	for (i = 0; i < FZ_NOPS; i++)
		total += i < FZ_NCMDS ? fz_cmds[i].weight : pseudo_weight[i - FZ_NCMDS];
	r = rnd(total);
	for (i = 0; i < FZ_NOPS - 1; i++) {
		unsigned int w = i < FZ_NCMDS ? fz_cmds[i].weight : pseudo_weight[i - FZ_NCMDS];

		if (r < w)
			return i;
		r -= w;
	}
	return i;
}

/* Counts the map slots the calls before @n may fill, to aim at them. */
static unsigned int slots_before(const struct fz_prog *p, unsigned int n)
{
	unsigned int i, s = 0;

	for (i = 0; i < n && i < p->ncalls; i++) {
		unsigned int op = p->call[i].op;

		if (op == C_CREATE || op == C_OPEN_NAME || op == C_OPEN_ID ||
		    (op == OP_DUP && !on_watch(&p->call[i])))
			s++;
	}
	return s > FZ_SLOTS ? FZ_SLOTS : s;
}

/* The same for the watch slots. */
static unsigned int watches_before(const struct fz_prog *p, unsigned int n)
{
	unsigned int i, s = 0;

	for (i = 0; i < n && i < p->ncalls; i++) {
		unsigned int op = p->call[i].op;

		if (op == C_WATCH || (op == OP_DUP && on_watch(&p->call[i])))
			s++;
	}
	return s > FZ_WSLOTS ? FZ_WSLOTS : s;
}

/*
 * A new call @op at @i of @p, aimed at the slots calls before it fill; a
 * read or poll with no watch to use is mostly a WATCH instead.
 */
static void gen_at(struct fz_prog *p, unsigned int i, unsigned int op)
{
	unsigned int s = slots_before(p, i), w = watches_before(p, i);
	bool image = false;

	if ((op == OP_READ || op == OP_POLL || op == OP_FDINFO) && !w && !one_in(8))
		op = C_WATCH;
	/* An mmap with no map to map is mostly a CREATE of one instead. */
	if (op == OP_MMAP && !s && !one_in(8)) {
		op = C_CREATE;
		image = true;
	}

	gen_call(&p->call[i], op, s ? rnd(s) : 0, w ? rnd(w) : 0);
	if (image)
		set(&p->call[i], "flags", HMAP_F_MMAP | (one_in(4) ? HMAP_F_PREALLOC : 0));
}

/* Whether a call before @n creates an HMAP_F_MMAP map. */
static bool images_before(const struct fz_prog *p, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n && i < p->ncalls; i++)
		if (p->call[i].op == C_CREATE &&
		    get_field(&p->call[i], field(&p->call[i], "flags")) & HMAP_F_MMAP)
			return true;
	return false;
}

/*
 * Names meet by chance one time in seven: make an OPEN_BY_NAME, an
 * UNPUBLISH or a PUBLISH that replaces use the name an earlier PUBLISH of
 * the program gave, mostly.
 */
static void link_name(struct fz_prog *p, unsigned int i)
{
	struct fz_call *c = &p->call[i];
	const struct fz_field *to = field(c, "name"), *from;
	int k;

	if ((c->op != C_OPEN_NAME && c->op != C_UNPUBLISH &&
	     !(c->op == C_PUBLISH && get_field(c, field(c, "flags")) & HMAP_PUBLISH_REPLACE)) ||
	    !to || one_in(4))
		return;
	for (k = i - 1; k >= 0; k--) {
		if (p->call[k].op != C_PUBLISH)
			continue;
		from = field(&p->call[k], "name");
		memcpy(c->data + to->off, p->call[k].data + from->off, HMAP_NAME_LEN);
		return;
	}
}

/*
 * A CMPXCHG succeeds only if it expects the value there: mostly, make one
 * expect, on the same map and key, the value an earlier UPDATE or CMPXCHG
 * of the program stored.
 */
static void link_value(struct fz_prog *p, unsigned int i)
{
	struct fz_call *c = &p->call[i];
	int k, from;

	if (c->op != C_CMPXCHG || one_in(4))
		return;
	for (k = i - 1; k >= 0; k--) {
		const struct fz_call *o = &p->call[k];

		if (o->op == C_UPDATE)
			from = ptr_index(o, "value");
		else if (o->op == C_CMPXCHG)
			from = ptr_index(o, "desired");
		else
			continue;
		c->pfill[ptr_index(c, "expected")] = o->pfill[from];
		c->pfill[ptr_index(c, "key")] = o->pfill[ptr_index(o, "key")];
		c->fd = o->fd == FD_SLOT_RO ? FD_SLOT : o->fd;
		c->slot = o->slot;
		return;
	}
}

static void gen_prog(struct fz_prog *p)
{
	unsigned int i, n = 1 + rnd(one_in(4) ? 4 : FZ_MAX_CALLS);

	memset(p, 0, sizeof(*p));
	p->ncalls = n;
	/*
	 * Mostly: make a map or two, maybe watch it, put entries in, then
	 * anything; now and then read a watch at the end.
	 */
	for (i = 0; i < n; i++) {
		unsigned int op = pick_op();

		if (i == 0 && !one_in(10))
			op = C_CREATE;
		else if (i == 1 && one_in(5))
			op = C_CREATE;
		else if (i == 1 && one_in(4))
			op = C_WATCH;
		else if (i <= 3 && one_in(2))
			op = one_in(4) ? C_UBATCH : C_UPDATE;
		else if (i == n - 1 && watches_before(p, i) && one_in(2))
			op = OP_READ;
		else if (i >= 1 && images_before(p, i) && one_in(4))
			op = OP_MMAP;
		gen_at(p, i, op);
		link_name(p, i);
		link_value(p, i);
	}
}

/* ---- mutation ---- */

static const uint32_t size_choices[] = {
	0, 1, 3, 4, 7, 8, 12, 16, 24, 32, 40, 56, 64, 168, 4095, 4096, 4097,
	8192, 65536, 0xffffffff,
};

static void mutate_size(struct fz_call *c)
{
	const struct fz_cmd *cmd = &fz_cmds[c->op % FZ_NCMDS];
	uint32_t sz;

	switch (rnd(7)) {
	case 0:
		sz = cmd->size - 1 - rnd(cmd->size < 8 ? cmd->size : 8);
		break;
	case 1:		/* larger, zero or non-zero tail */
		sz = cmd->size + 1 + rnd(64);
		break;
	case 2:
		sz = cmd->size;
		break;
	case 3:		/* the first published size (no @version), or a byte less */
		sz = cmd->min_size - (one_in(2) ? 0 : 1);
		break;
	default:
		sz = size_choices[rnd(ARRAY_SIZE(size_choices))];
		break;
	}
	set(c, "size", sz);
	/* Back it with memory of the same size most of the time. */
	if (!one_in(4))
		c->len = sz > FZ_ARG_MAX ? FZ_ARG_MAX : sz < 4 ? 4 : sz;
	if (sz > cmd->size && one_in(2)) {
		c->tail_off = cmd->size + rnd(sz - cmd->size);
		if (c->tail_off < FZ_DATA)
			c->data[c->tail_off] = 1 + rnd(255);
		else
			c->tail_val = 1 + rnd(255);
	}
}

static void mutate_field(struct fz_call *c)
{
	const struct fz_cmd *cmd = &fz_cmds[c->op % FZ_NCMDS];
	const struct fz_field *f = &cmd->fields[1 + rnd(cmd->nfields - 1)];
	uint64_t v = get_field(c, f);

	if (f->kind == F_NAME) {
		set_name(c, f);
		return;
	}
	/* The buffer as the call says, or (again) sized from the records. */
	if (c->op == C_WATCH && !strcmp(f->name, "buf_bytes"))
		c->aux = one_in(4) ? 1 + rnd(REL_WATCH) : 0;
	if (f->kind == F_PTR) {
		int i = ptr_index(c, f->name);

		if (one_in(3)) {
			c->pkind[i] = P_RAW;
			set_field(c, f, one_in(2) ? pick_interesting() : rnd64());
		} else {
			c->pkind[i] = rnd(P_NKINDS);
			c->px[i] = one_in(2) ? 1 + rnd(8) : rnd(0x10000);
		}
		return;
	}
	switch (rnd(5)) {
	case 0:
		v = pick_interesting();
		break;
	case 1:
		v += one_in(2) ? 1 : -1;
		break;
	case 2:
		v ^= 1ULL << rnd(f->width * 8);
		break;
	case 3:
		v = rnd64();
		break;
	default:
		v = rnd(8);
		break;
	}
	set_field(c, f, v);
}

/* A read's count, buffer or slot. */
static void mutate_read(struct fz_call *c)
{
	unsigned int count;

	switch (rnd(4)) {
	case 0:
		gen_read(c);
		break;
	case 1:
		c->argp = rnd(P_NKINDS - 1);
		c->argx = one_in(2) ? 1 + rnd(8) : rnd(0x10000);
		break;
	case 2:
		memcpy(&count, c->data, sizeof(count));
		count = one_in(2) ? count + (one_in(2) ? 1 : -1) : (unsigned int)pick_interesting();
		memcpy(c->data, &count, sizeof(count));
		c->aux = 0;
		break;
	default:
		c->slot = rnd(FZ_WSLOTS);
		break;
	}
}

static void mutate_call(struct fz_prog *p, struct fz_call *c)
{
	unsigned int s = slots_before(p, c - p->call);
	int i;

	if (is_pseudo(c)) {
		if (one_in(4))
			gen_at(p, c - p->call, pick_op());
		else if (c->op == OP_READ && !one_in(3))
			mutate_read(c);
		else if (c->op == OP_MMAP && !one_in(3))
			mutate_mmap(c);
		else if (one_in(4))
			c->fd = on_watch(c) ? FD_SLOT : FD_WATCH;
		else
			c->slot = rnd(FZ_SLOTS);
		return;
	}
	switch (rnd(16)) {
	case 0:
	case 1:
		mutate_size(c);
		break;
	case 2:
	case 3:
	case 4:
	case 5:
		mutate_field(c);
		break;
	case 6:
		c->data[rnd(c->len < FZ_DATA ? (c->len ? c->len : 1) : FZ_DATA)] ^= 1 << rnd(8);
		break;
	case 7:
		c->argp = rnd(P_NKINDS - 1);	/* the struct has no raw address */
		c->argx = one_in(2) ? 1 + rnd(8) : rnd(0x10000);
		break;
	case 8:
		i = rnd(FZ_NPTR);
		c->pkind[i] = rnd(P_NKINDS);
		c->px[i] = one_in(2) ? 1 + rnd(8) : rnd(0x10000);
		break;
	case 9:
		c->pfill[rnd(FZ_NPTR)] = pick_fill();
		break;
	case 10:
		c->fd = rnd(FD_NKINDS);
		c->slot = rnd(FZ_SLOTS);
		break;
	case 11:
		c->slot = s ? rnd(s) : 0;
		c->fd = fz_cmds[c->op % FZ_NCMDS].dev ? FD_DEV : FD_SLOT;
		break;
	case 12:
		c->as_user = !c->as_user;
		break;
	case 13:		/* another ioctl number, the same bytes */
		switch (rnd(4)) {
		case 0:
			c->nr = _IO(HMAP_TYPE, rnd(256));
			break;
		case 1:
			c->nr = _IOWR(HMAP_TYPE, HMAP_CMD_BASE + rnd(FZ_NCMDS + 1),
				      char[1 + rnd(256)]);
			break;
		case 2:
			c->nr = rnd64();
			break;
		default:
			c->nr = 0;
			break;
		}
		break;
	case 14:		/* another command, the same bytes */
		c->op = rnd(FZ_NCMDS);
		break;
	default:
		c->idref = rnd(FZ_SLOTS + 1);
		break;
	}
}

static void mutate_prog(struct fz_prog *p, const struct fz_prog *other)
{
	unsigned int n = 1 + (one_in(2) ? 0 : rnd(4)), i, k;

	for (k = 0; k < n; k++) {
		switch (rnd(10)) {
		case 0:		/* insert a new call */
			if (p->ncalls < FZ_MAX_CALLS) {
				i = rnd(p->ncalls + 1);
				memmove(&p->call[i + 1], &p->call[i],
					(p->ncalls - i) * sizeof(p->call[0]));
				p->ncalls++;
				gen_at(p, i, pick_op());
				link_name(p, i);
				link_value(p, i);
			}
			break;
		case 1:		/* remove one */
			if (p->ncalls > 1) {
				i = rnd(p->ncalls);
				memmove(&p->call[i], &p->call[i + 1],
					(p->ncalls - i - 1) * sizeof(p->call[0]));
				p->ncalls--;
			}
			break;
		case 2:		/* repeat one */
			if (p->ncalls < FZ_MAX_CALLS) {
				i = rnd(p->ncalls);
				p->call[p->ncalls++] = p->call[i];
			}
			break;
		case 3:		/* splice another program's tail */
			if (other && other->ncalls) {
				unsigned int a = rnd(p->ncalls + 1), b = rnd(other->ncalls);

				while (a < FZ_MAX_CALLS && b < other->ncalls)
					p->call[a++] = other->call[b++];
				p->ncalls = a;
			}
			break;
		default:
			mutate_call(p, &p->call[rnd(p->ncalls)]);
			break;
		}
	}
	if (!p->ncalls) {
		p->ncalls = 1;
		gen_call(&p->call[0], C_CREATE, 0, 0);
	}
}

/* ---- execution ---- */

static int dev_fd = -1, dev_ro_fd = -1, null_fd = -1, pipe_fds[2] = { -1, -1 };
static int closed_fd = -1, kmsg_fd = -1, kcov_fd = -1, epoll_fd = -1;
static int procmem_fd = -1;	/* /proc/self/mem, for MT_PROCMEM */
static uint64_t *kcov_area;
static uint8_t *arena_rw, *arena_ro;
static uint64_t hole_addr;

struct fz_exec {
	int fd[FZ_SLOTS];
	int ro_fd[FZ_SLOTS];
	bool closed[FZ_SLOTS];	/* fd closed by OP_CLOSE: not ours to close */
	uint32_t key_size[FZ_SLOTS];
	uint32_t value_size[FZ_SLOTS];
	uint32_t id[FZ_SLOTS];
	uint64_t version[FZ_SLOTS];	/* the last version seen come back */
	unsigned int n;
	char pub[FZ_MAX_CALLS][HMAP_NAME_LEN];
	unsigned int npub;
	/* Watch slots, filled by WATCH and dup as the map slots are. */
	int wfd[FZ_WSLOTS];
	bool wclosed[FZ_WSLOTS];	/* as closed[] */
	bool wknown[FZ_WSLOTS];		/* wfd is the watch below, for the checks */
	bool wfmt[FZ_WSLOTS];		/* its flags are known: records are checked */
	bool wvalues[FZ_WSLOTS];	/* HMAP_WATCH_VALUES */
	unsigned int wks[FZ_WSLOTS], wvs[FZ_WSLOTS];	/* the map's sizes */
	unsigned int wstream[FZ_WSLOTS];	/* slot of wnext[] (dups share it) */
	__u64 wnext[FZ_WSLOTS];	/* seq the next record must have; 0: unknown */
	unsigned int nw;
	unsigned int cur;		/* the call running */
	/* Mappings left to the program's end (MT_KEEP), of images. */
	uint8_t *maddr[FZ_MSLOTS];
	uint64_t mlen[FZ_MSLOTS];
	uint64_t moff[FZ_MSLOTS];	/* the offset in the image it maps */
	uint64_t mimg[FZ_MSLOTS];	/* the image's size */
	uint32_t mks[FZ_MSLOTS], mvs[FZ_MSLOTS];	/* the map's sizes */
	bool mread[FZ_MSLOTS];		/* readable */
	unsigned int mcall[FZ_MSLOTS];	/* the call that made it */
	unsigned int nm;
	/* A failed check of this program, for the parent to report. */
	char check[256];
};

static int arena_init(void)
{
	size_t stride = SLAB + PAGE, total = NSLABS * stride, i;
	int mfd = memfd_create("hmap_fuzz", MFD_CLOEXEC);
	void *hole;

	if (mfd < 0 || ftruncate(mfd, NSLABS * SLAB))
		return -1;
	arena_rw = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	arena_ro = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena_rw == MAP_FAILED || arena_ro == MAP_FAILED)
		return -1;
	/* Each slab is followed by a PROT_NONE guard page of the reservation. */
	for (i = 0; i < NSLABS; i++) {
		if (mmap(arena_rw + i * stride, SLAB, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, mfd, i * SLAB) == MAP_FAILED ||
		    mmap(arena_ro + i * stride, SLAB, PROT_READ,
			 MAP_SHARED | MAP_FIXED, mfd, i * SLAB) == MAP_FAILED)
			return -1;
	}
	close(mfd);
	hole = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED)
		return -1;
	munmap(hole, PAGE);
	hole_addr = (uintptr_t)hole;
	return 0;
}

static uint8_t *slab_rw(unsigned int s)
{
	return arena_rw + s * (SLAB + PAGE);
}

static uint8_t *slab_ro(unsigned int s)
{
	return arena_ro + s * (SLAB + PAGE);
}

/*
 * Places a buffer the kernel expects to hold @need bytes in slab @s the way
 * @kind says. Returns the address to pass; *@wr and *@wlen tell where its
 * accessible bytes are, for filling (NULL when none are).
 */
static const uint64_t kernel_addr[] = {
	0xffff888000000000ULL, 0xffffffff81000000ULL, 0xffffffffff600000ULL,
	0xfffffffffffff000ULL,
};

static const uint64_t noncanon_addr[] = {
	0x0000800000000000ULL, 0x8000000000000000ULL, 0xdead000000000100ULL,
	0x00007ffffffff000ULL,
};

static uint64_t place(unsigned int s, unsigned int kind, uint64_t need,
		      unsigned int x, uint8_t **wr, size_t *wlen)
{
	size_t off = 0, len = need > SLAB ? SLAB : need;

	*wr = NULL;
	*wlen = 0;
	switch (kind % P_NKINDS) {
	case P_VALID:
	case P_RDONLY:
		break;
	case P_SHORT:
		len = need > x ? need - x : 0;
		if (len > SLAB)
			len = SLAB;
		off = SLAB - len;
		break;
	case P_MISALIGN:
		off = 1 + x % 63;
		break;
	case P_STRADDLE:
		off = PAGE - (need < 2 ? 1 : need / 2 < PAGE ? need / 2 : PAGE - 1);
		break;
	case P_NULL:
		return 0;
	case P_UNMAPPED:
		switch (x % 4) {
		case 0:
			return 0x1000;	/* below mmap_min_addr */
		case 1:
			return (uintptr_t)slab_rw(s) + SLAB;	/* a guard page */
		case 2:
			return hole_addr;
		default:	/* across the end of user space */
			return 0x7ffffffff000ULL - (need / 2 ? need / 2 : 1);
		}
	case P_KERNEL:		/* direct map, kernel text, vsyscall page, top */
		return kernel_addr[x % ARRAY_SIZE(kernel_addr)];
	case P_NONCANON:
		return noncanon_addr[x % ARRAY_SIZE(noncanon_addr)];
	default:
		return 0;
	}
	if (off + len > SLAB)
		len = SLAB - off;
	*wr = slab_rw(s) + off;
	*wlen = len;
	return (uintptr_t)((kind == P_RDONLY ? slab_ro(s) : slab_rw(s)) + off);
}

/*
 * Element i of a key or value array is the 64-bit number (fill & 15) + i,
 * little-endian, zero-padded; a fill with the top bit set is that byte
 * repeated instead.
 */
static void fill_elems(uint8_t *p, size_t n, uint32_t esize, uint8_t fill)
{
	uint64_t i, v;
	size_t o, k;

	if (fill & 0x80 || !esize) {
		memset(p, fill, n);
		return;
	}
	memset(p, 0, n);
	for (i = 0, o = 0; o < n; i++, o += esize) {
		v = (fill & 15) + i;
		k = n - o < esize ? n - o : esize;
		memcpy(p + o, &v, k < 8 ? k : 8);
	}
}

static int slot_ro_fd(struct fz_exec *x, unsigned int s)
{
	struct hmap_open_by_id o = { .size = sizeof(o), .flags = HMAP_F_RDONLY };

	if (x->ro_fd[s] >= 0 || x->fd[s] < 0)
		return x->ro_fd[s];
	o.id = x->id[s];
	x->ro_fd[s] = ioctl(dev_fd, HMAP_IOC_OPEN_BY_ID, &o);
	return x->ro_fd[s];
}

static int pick_fd(struct fz_exec *x, const struct fz_call *c)
{
	unsigned int s = c->slot % FZ_SLOTS;

	switch (c->fd % FD_NKINDS) {
	case FD_WATCH:
		return x->wfd[c->slot % FZ_WSLOTS];
	case FD_DEV:
		return dev_fd;
	case FD_DEV_RO:
		return dev_ro_fd;
	case FD_SLOT:
		return x->fd[s];
	case FD_SLOT_RO:
		return slot_ro_fd(x, s);
	case FD_CLOSED:
		return closed_fd;
	case FD_NULLDEV:
		return null_fd;
	case FD_PIPE:
		return pipe_fds[0];
	default:
		return -1;
	}
}

/*
 * Fd number @fd was closed, or is reused by a new fd: no slot that held it
 * is to close it, and no watch slot that held it refers to its watch.
 */
static void forget_fd(struct fz_exec *x, int fd)
{
	unsigned int k;

	for (k = 0; k < FZ_SLOTS; k++)
		if (x->fd[k] == fd)
			x->closed[k] = true;
	for (k = 0; k < FZ_WSLOTS; k++)
		if (x->wfd[k] == fd) {
			x->wclosed[k] = true;
			x->wknown[k] = false;
		}
}

/* Learns a new map fd's sizes and id, and keeps it in a slot. */
static void adopt_fd(struct fz_exec *x, int fd)
{
	struct hmap_info info = { .size = sizeof(info) };

	if (x->n >= FZ_SLOTS || ioctl(fd, HMAP_IOC_INFO, &info)) {
		close(fd);
		return;
	}
	forget_fd(x, fd);	/* the old slot's number is reused */
	x->fd[x->n] = fd;
	x->closed[x->n] = false;
	x->key_size[x->n] = info.key_size;
	x->value_size[x->n] = info.value_size;
	x->id[x->n] = info.id;
	x->n++;
}

/*
 * Keeps a new watch fd in a watch slot, with the sizes of the map it
 * watches (issued on @map_fd) and the flags and numbering of the struct
 * WATCH read and wrote back at @arg (@alen bytes of it readable).
 */
static void adopt_watch(struct fz_exec *x, int fd, int map_fd, const uint8_t *arg,
			size_t alen)
{
	struct hmap_info info = { .size = sizeof(info) };
	struct hmap_watch w;
	unsigned int k = x->nw;

	if (k >= FZ_WSLOTS || ioctl(map_fd, HMAP_IOC_INFO, &info)) {
		close(fd);
		return;
	}
	forget_fd(x, fd);
	x->wfd[k] = fd;
	x->wclosed[k] = false;
	x->wknown[k] = true;
	x->wks[k] = info.key_size;
	x->wvs[k] = info.value_size;
	x->wstream[k] = k;
	x->wnext[k] = 0;
	/* Success wrote the struct back, up to its @size: min_size has @seq. */
	x->wfmt[k] = arg && alen >= sizeof(w);
	if (x->wfmt[k]) {
		memcpy(&w, arg, sizeof(w));
		x->wvalues[k] = w.flags & HMAP_WATCH_VALUES;
		if (w.size >= offsetofend(struct hmap_watch, seq))
			x->wnext[k] = w.seq + 1;
	}
	x->nw++;
}

static void exec_reset(struct fz_exec *x)
{
	memset(x, 0, sizeof(*x));
	memset(x->fd, -1, sizeof(x->fd));
	memset(x->ro_fd, -1, sizeof(x->ro_fd));
	memset(x->wfd, -1, sizeof(x->wfd));
}

static const char *errname(long r);

/* A property that does not hold: the program fails as on a kernel report. */
static void check_fail(struct fz_exec *x, const char *fmt, ...)
{
	va_list ap;

	if (x->check[0])
		return;		/* the first one tells */
	va_start(ap, fmt);
	vsnprintf(x->check, sizeof(x->check), fmt, ap);
	va_end(ap);
}

/* ---- reading mappings ---- */

static sigjmp_buf touch_env;
static volatile sig_atomic_t touching;
static volatile int touch_sig;
static volatile uintptr_t touch_addr;
static volatile uint8_t touch_sink;

/*
 * SIGBUS or SIGSEGV: back to touch() if it is reading a mapping. Anywhere
 * else the executor dies of it, as it would with no handler: the access
 * faults again, with the default action.
 */
static void touch_fault(int sig, siginfo_t *si, void *uc)
{
	if (!touching) {
		signal(sig, SIG_DFL);
		return;
	}
	touch_sig = sig;
	touch_addr = (uintptr_t)si->si_addr;
	siglongjmp(touch_env, 1);
}

static void touch_setup(void)
{
	struct sigaction sa = { .sa_sigaction = touch_fault, .sa_flags = SA_SIGINFO };

	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

/*
 * Copies the first @hlen bytes of [@p, @p + @len) to @hdr (if not NULL),
 * then reads a byte of every page of it (of FZ_TOUCH_PAGES at most: the
 * first and the last half). Returns 0, or the signal a read took, with its
 * address in *@at.
 */
static int touch(const uint8_t *p, uint64_t len, void *hdr, size_t hlen, uintptr_t *at)
{
	uint64_t pages = len / PAGE + !!(len % PAGE);
	const volatile uint8_t *v = p;
	volatile uint64_t i;
	volatile uint8_t sum = 0;

	if (sigsetjmp(touch_env, 1)) {
		touching = 0;
		*at = touch_addr;
		return touch_sig;
	}
	touching = 1;
	if (hdr)
		memcpy(hdr, p, hlen);
	for (i = 0; i < pages; i++) {
		if (pages > FZ_TOUCH_PAGES && i == FZ_TOUCH_PAGES / 2)
			i = pages - FZ_TOUCH_PAGES / 2;
		sum += v[i * PAGE];
	}
	touching = 0;
	touch_sink = sum;
	return 0;
}

/*
 * The header of an image (@img bytes, of a map of @ks-byte keys and
 * @vs-byte values) as <linux/hmap.h> describes it: NULL if it is, else the
 * field that is wrong.
 */
static const char *header_wrong(const struct hmap_mmap_header *h, uint64_t img,
				uint32_t ks, uint32_t vs)
{
	if (h->magic != HMAP_MMAP_MAGIC)
		return "magic";
	if (h->layout != HMAP_MMAP_LAYOUT)
		return "layout";
	if (h->header_size < sizeof(*h) || h->header_size > img)
		return "header_size";
	if (h->hash != HMAP_MMAP_HASH_JHASH)
		return "hash";
	if (h->key_size != ks || h->value_size != vs)
		return "key_size or value_size (not INFO's)";
	if (h->mmap_bytes != img)
		return "mmap_bytes (not INFO's)";
	if (!h->buckets || h->buckets & (h->buckets - 1) || h->buckets > HMAP_MMAP_NULLS)
		return "buckets";
	if (!h->chain_max)
		return "chain_max";
	if (h->value_off < h->key_size || h->value_off % 8 || h->slot_size % 8 ||
	    h->slot_size < sizeof(struct hmap_mmap_slot) + (uint64_t)h->value_off + h->value_size)
		return "value_off or slot_size";
	if (h->buckets_off < h->header_size || h->buckets_off % 4 ||
	    h->buckets_off + 4ULL * h->buckets > h->slots_off)
		return "buckets_off";
	if (h->slots_off % 8 || h->slots_off > img ||
	    (uint64_t)h->slots * h->slot_size > img - h->slots_off)
		return "slots_off or slots";
	return NULL;
}

/*
 * Reads mapping [@p, @p + @len) of an image at offset @off, and its header
 * if it maps offset 0; a signal or a wrong header fails the program's
 * check, said to be @when. True if it read whole.
 */
static bool read_mapping(struct fz_exec *x, const uint8_t *p, uint64_t len, uint64_t off,
			 uint64_t img, uint32_t ks, uint32_t vs, const char *when)
{
	struct hmap_mmap_header h;
	const char *bad;
	uintptr_t at = 0;
	int sig;

	sig = touch(p, len, off ? NULL : &h, sizeof(h), &at);
	if (sig) {
		check_fail(x, "%s: signal %d reading image offset %#llx of a mapping of offset %#llx, %#llx bytes of a %llu-byte image",
			   when, sig, (unsigned long long)(at - (uintptr_t)p + off),
			   (unsigned long long)off, (unsigned long long)len,
			   (unsigned long long)img);
		return false;
	}
	if (!off && (bad = header_wrong(&h, img, ks, vs))) {
		check_fail(x, "%s: the image's header has a wrong %s (magic %#x, mmap_bytes %llu of INFO's %llu, key_size %u, value_size %u)",
			   when, bad, h.magic, (unsigned long long)h.mmap_bytes,
			   (unsigned long long)img, h.key_size, h.value_size);
		return false;
	}
	return true;
}

/*
 * Kept mapping @i, after the program's fds are closed: the mapping alone
 * holds its map, so it reads as before; then it goes.
 */
static void unmap_kept(struct fz_exec *x, unsigned int i)
{
	char when[96];

	snprintf(when, sizeof(when), "the mapping of call [%u], read after the program's fds were closed",
		 x->mcall[i]);
	if (x->mread[i])
		read_mapping(x, x->maddr[i], x->mlen[i], x->moff[i], x->mimg[i], x->mks[i],
			     x->mvs[i], when);
	munmap(x->maddr[i], x->mlen[i]);
}

/*
 * Closes what a program left open and removes the names it published; then
 * reads and unmaps the mappings it kept.
 */
static void exec_cleanup(struct fz_exec *x)
{
	struct hmap_unpublish u = { .size = sizeof(u) };
	unsigned int i;

	for (i = 0; i < x->npub; i++) {
		memcpy(u.name, x->pub[i], HMAP_NAME_LEN);
		ioctl(dev_fd, HMAP_IOC_UNPUBLISH, &u);
	}
	for (i = 0; i < FZ_SLOTS; i++) {
		if (x->fd[i] >= 0 && !x->closed[i])
			close(x->fd[i]);
		if (x->ro_fd[i] >= 0)
			close(x->ro_fd[i]);
	}
	/* Last: a watch may hold the last reference of its map. */
	for (i = 0; i < FZ_WSLOTS; i++)
		if (x->wfd[i] >= 0 && !x->wclosed[i])
			close(x->wfd[i]);
	/* Then a mapping may: read it with no fd left, then unmap it. */
	for (i = 0; i < x->nm; i++)
		unmap_kept(x, i);
}

/* ---- coverage ---- */

static void kcov_reset(void)
{
	if (kcov_area)
		__atomic_store_n(&kcov_area[0], 0, __ATOMIC_RELAXED);
}

static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	x ^= x >> 16;
	return x;
}

/* Folds the PCs of the last syscall into the maps; true if any edge is new. */
static bool kcov_collect(void)
{
	uint64_t n, i, pc, off;
	uint32_t prev = 0, h, e;
	bool fresh = false;

	if (!kcov_area)
		return false;
	n = __atomic_load_n(&kcov_area[0], __ATOMIC_RELAXED);
	if (n > KCOV_WORDS - 1)
		n = KCOV_WORDS - 1;
	for (i = 1; i <= n; i++) {
		pc = kcov_area[i] + shm->kcov_adjust;
		off = pc - shm->text_lo;
		if (off >= shm->text_len)
			continue;
		h = hash32(off);
		e = (h ^ prev) & (FZ_EDGES - 1);
		prev = h >> 1;
		/* Executors race here: whoever sets a bit counts it. */
		if (!shm->edges[e] && !__atomic_exchange_n(&shm->edges[e], 1, __ATOMIC_RELAXED)) {
			__atomic_add_fetch(&shm->nedges, 1, __ATOMIC_RELAXED);
			fresh = true;
		}
		if (!(shm->pcs[off / 8] & (1 << (off % 8))) &&
		    !(__atomic_fetch_or(&shm->pcs[off / 8], 1 << (off % 8), __ATOMIC_RELAXED) &
		      (1 << (off % 8))))
			__atomic_add_fetch(&shm->npcs, 1, __ATOMIC_RELAXED);
	}
	return fresh;
}

static unsigned long long read_hex_file(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%llx", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/*
 * hmap.ko's text: from its .text section to the end of its highest text
 * symbol in /proc/kallsyms (cold parts sit in .text.unlikely after .text),
 * bounded by the next section of the module above that.
 */
static int text_range(uint64_t *lo, uint64_t *len)
{
	unsigned long long text, a, hi = 0, bound = ~0ULL;
	char line[512], type, sym[256], mod[64];
	struct dirent *de;
	DIR *d;
	FILE *f;

	text = read_hex_file("/sys/module/hmap/sections/.text");
	if (!text)
		return -1;
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s [%63[^]]]", &a, &type, sym, mod) != 4)
			continue;
		if (strcmp(mod, "hmap") || (type != 't' && type != 'T'))
			continue;
		if (a >= text && a > hi)
			hi = a;
	}
	fclose(f);
	if (!hi)
		return -1;
	d = opendir("/sys/module/hmap/sections");
	while (d && (de = readdir(d))) {
		char p[300];

		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		if (!strncmp(de->d_name, ".init", 5))
			continue;	/* a separate allocation, freed after load */
		snprintf(p, sizeof(p), "/sys/module/hmap/sections/%s", de->d_name);
		a = read_hex_file(p);
		if (a > hi && a < bound)
			bound = a;
	}
	if (d)
		closedir(d);
	/* The last function's size is not known: allow a generous page. */
	hi += PAGE;
	if (hi > bound)
		hi = bound;
	*lo = text;
	*len = hi - text;
	return *len <= FZ_TEXT_MAX ? 0 : -1;
}

/*
 * KCOV reports PCs minus the kernel image's KASLR offset. Finds the
 * adjustment that puts the PCs of an hmap ioctl inside hmap.ko's text.
 */
static int kcov_calibrate(void)
{
	struct hmap_get_next_id g = { .size = sizeof(g) };
	uint64_t n, i, in0 = 0, in1 = 0, adj1 = 0, a;
	char line[256], sym[128];
	char type;
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 " %c %127s", &a, &type, sym) == 3 &&
		    !strcmp(sym, "_text")) {
			adj1 = a - 0xffffffff81000000ULL;
			break;
		}
	}
	if (f)
		fclose(f);
	kcov_reset();
	ioctl(dev_fd, HMAP_IOC_GET_NEXT_ID, &g);
	n = __atomic_load_n(&kcov_area[0], __ATOMIC_RELAXED);
	for (i = 1; i <= n && i < KCOV_WORDS; i++) {
		in0 += kcov_area[i] - shm->text_lo < shm->text_len;
		in1 += kcov_area[i] + adj1 - shm->text_lo < shm->text_len;
	}
	if (in0 && in0 >= in1)
		shm->kcov_adjust = 0;
	else if (in1)
		shm->kcov_adjust = adj1;
	else
		return -1;
	return 0;
}

static void kcov_open(void)
{
	kcov_fd = open(KCOV_PATH, O_RDWR | O_CLOEXEC);
	if (kcov_fd < 0)
		return;
	if (ioctl(kcov_fd, KCOV_INIT_TRACE, KCOV_WORDS))
		goto fail;
	kcov_area = mmap(NULL, KCOV_WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, kcov_fd, 0);
	if (kcov_area == MAP_FAILED)
		goto fail;
	if (ioctl(kcov_fd, KCOV_ENABLE, KCOV_TRACE_PC))
		goto fail;
	return;
fail:
	snprintf(shm->kcov_note, sizeof(shm->kcov_note), "kcov setup failed: %s",
		 strerror(errno));
	kcov_area = NULL;
	close(kcov_fd);
	kcov_fd = -1;
}

/* ---- running a call ---- */

/*
 * For one call, an unprivileged user holding the same fds: fsuid and fsgid
 * FZ_FUZZ_UID and no effective capability (CAP_SYS_ADMIN, CAP_DAC_OVERRIDE
 * and CAP_SYS_RESOURCE all change what hmap allows). The permitted set
 * stays, so that both come back after the call: two or three syscalls.
 */
static void become_user(bool user)
{
	static struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	static struct __user_cap_data_struct saved[2], none[2];
	static bool have;

	if (!have) {
		have = !syscall(SYS_capget, &hdr, saved);
		memcpy(none, saved, sizeof(none));
		none[0].effective = none[1].effective = 0;
	}
	if (user) {
		setfsgid(FZ_FUZZ_UID);
		setfsuid(FZ_FUZZ_UID);
		if (have)
			syscall(SYS_capset, &hdr, none);
	} else {
		/* Allowed without capabilities: 0 is the effective uid/gid. */
		setfsuid(0);
		setfsgid(0);
		if (have)
			syscall(SYS_capset, &hdr, saved);
	}
}

/* Bytes a pointer field's buffer should hold for the map the call is on. */
static uint64_t role_bytes(const struct fz_field *f, uint32_t ks, uint32_t vs, uint32_t count)
{
	switch (f->role) {
	case R_KEY:
		return ks;
	case R_VALUE:
		return vs;
	case R_KEYS:
		return (uint64_t)count * ks;
	case R_VALUES:
		return (uint64_t)count * vs;
	default:
		return (uint64_t)count * 4;
	}
}

/*
 * Checks the @n bytes a read of watch slot @s returned into @b: whole
 * records, as &struct hmap_event says they are, numbered one after the
 * other (an overflow record counting for the records it stands for), also
 * across reads that faulted, which lose no record.
 */
static void check_records(struct fz_exec *x, unsigned int s, const uint8_t *b, size_t n)
{
	__u64 *next = &x->wnext[x->wstream[s]];
	unsigned int ks = x->wks[s], vs = x->wvs[s];
	struct hmap_event ev;
	size_t off, i;

	for (off = 0; off < n; off += ev.len) {
		bool keyless, valued, ovf, zero_version;

		if (n - off < sizeof(ev)) {
			check_fail(x, "read of watch%u: %zu bytes past the last whole record",
				   s, n - off);
			return;
		}
		memcpy(&ev, b + off, sizeof(ev));
		ovf = ev.op == HMAP_EVENT_OVERFLOW;
		zero_version = ev.op == HMAP_EVENT_CLEAR || ovf;
		keyless = zero_version || ev.op == HMAP_EVENT_REPLACED;
		valued = x->wvalues[s] && !keyless;
		if (ev.len % 8 || ev.len > n - off || ev.op < HMAP_EVENT_UPDATE ||
		    ev.op > HMAP_EVENT_REPLACED || ev.__reserved ||
		    ev.key_size != (keyless ? 0 : ks) || ev.value_size != (valued ? vs : 0) ||
		    ev.len != rec_bytes(ev.key_size, ev.value_size) ||
		    ovf != !!ev.lost || (zero_version && ev.version)) {
			check_fail(x,
				   "read of watch%u (%u-byte keys, %u-byte values%s), record at %zu of %zu: seq %llu version %llu lost %llu len %u op %u reserved %u key_size %u value_size %u",
				   s, ks, vs, x->wvalues[s] ? ", HMAP_WATCH_VALUES" : "", off, n,
				   (unsigned long long)ev.seq, (unsigned long long)ev.version,
				   (unsigned long long)ev.lost, ev.len, ev.op, ev.__reserved,
				   ev.key_size, ev.value_size);
			return;
		}
		for (i = sizeof(ev) + ev.key_size + ev.value_size; i < ev.len; i++)
			if (b[off + i]) {
				check_fail(x,
					   "read of watch%u, record seq %llu: padding byte %zu is %#x",
					   s, (unsigned long long)ev.seq, i, b[off + i]);
				return;
			}
		if (*next && ev.seq != *next) {
			check_fail(x,
				   "read of watch%u, record at %zu: seq %llu (op %u), expected %llu",
				   s, off, (unsigned long long)ev.seq, ev.op,
				   (unsigned long long)*next);
			return;
		}
		*next = ev.seq + (ovf ? ev.lost : 1);
	}
}

/*
 * Reads watch slot @c->slot's fd, with the fd O_NONBLOCK for the read
 * whatever WATCH's flags said, so that it never waits: with records there,
 * a blocking read returns the same. Checks what the read returned.
 */
static long run_read(struct fz_exec *x, const struct fz_call *c, bool *fresh)
{
	unsigned int s = c->slot % FZ_WSLOTS, count;
	int fd = x->wfd[s], fl, err;
	unsigned char *wr;
	size_t wlen;
	__u64 a;
	long ret;

	memcpy(&count, c->data, sizeof(count));
	if (c->aux)
		count = rel_size(c->aux, x->wks[s], x->wvs[s]);
	a = place(0, c->argp, count, c->argx, &wr, &wlen);
	if (wr)
		memset(wr, 0xa5, wlen);
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		return -errno;	/* no read that could wait */
	kcov_reset();
	ret = read(fd, (void *)(uintptr_t)a, count);
	err = errno;
	if (kcov_collect())
		*fresh = true;
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl);
	if (!x->wknown[s] || x->wclosed[s] || !x->wfmt[s])
		return ret < 0 ? -err : ret;
	if (ret > (long)count || (!count && c->argp == P_VALID && ret))
		check_fail(x, "read of watch%u returned %ld (%s) for count %u", s, ret,
			   ret < 0 ? errname(-err) : "bytes", count);
	else if (ret > 0 && wr && a == (uintptr_t)wr)
		check_records(x, s, wr, ret);
	return ret < 0 ? -err : ret;
}

/* Polls watch slot @c->slot's fd, with no timeout: by epoll if argx is odd. */
static long run_poll(struct fz_exec *x, const struct fz_call *c, bool *fresh)
{
	int fd = x->wfd[c->slot % FZ_WSLOTS];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct epoll_event ev = { .events = EPOLLIN }, out[FZ_WSLOTS];
	long ret;

	kcov_reset();
	if (c->argx & 1 && epoll_fd >= 0) {
		/* It stays registered, a waiter for writers to wake, until closed. */
		ev.data.fd = fd;
		if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) && errno != EEXIST)
			ret = -errno;
		else
			ret = epoll_wait(epoll_fd, out, FZ_WSLOTS, 0);
		ret = ret < 0 ? -errno : ret;
	} else {
		ret = poll(&pfd, 1, 0);
		ret = ret < 0 ? -errno : pfd.revents;
	}
	if (kcov_collect())
		*fresh = true;
	return ret;
}

/* A number after "@key:" in fdinfo text @t, or -1. */
static long long fdinfo_field(const char *t, const char *key)
{
	const char *p = strstr(t, key);

	return p ? strtoll(p + strlen(key), NULL, 0) : -1;
}

/*
 * Reads the fdinfo of slot @c->slot's fd (a watch slot or a map slot), and
 * of a known watch checks what it says against what WATCH was asked.
 */
static long run_fdinfo(struct fz_exec *x, const struct fz_call *c, bool *fresh)
{
	bool w = on_watch(c);
	unsigned int s = c->slot % (w ? FZ_WSLOTS : FZ_SLOTS);
	int fd = w ? x->wfd[s] : x->fd[s], pfd;
	char path[64], t[1024];
	long long size, queued;
	long ret;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	kcov_reset();
	pfd = open(path, O_RDONLY | O_CLOEXEC);
	ret = pfd < 0 ? -errno : read(pfd, t, sizeof(t) - 1);
	if (ret < 0 && pfd >= 0)
		ret = -errno;
	if (kcov_collect())
		*fresh = true;
	if (pfd >= 0)
		close(pfd);
	if (ret < 0 || !w || !x->wknown[s] || !x->wfmt[s])
		return ret;
	t[ret] = 0;
	size = fdinfo_field(t, "\nbuf_bytes:");
	queued = fdinfo_field(t, "\nqueued_bytes:");
	if (fdinfo_field(t, "\nvalues:") != x->wvalues[s] || size < HMAP_WATCH_MIN_BYTES ||
	    size > HMAP_WATCH_MAX_BYTES || (size & (size - 1)) || queued < 0 || queued > size)
		check_fail(x, "fdinfo of watch%u (%s): %.200s", s,
			   x->wvalues[s] ? "HMAP_WATCH_VALUES" : "no values", t);
	return ret;
}

/* The offset and the length an mmap() asks, for an image of @img bytes. */
static uint64_t mmap_off(const struct fz_mmap *m, uint64_t img)
{
	switch (m->off % MO_N) {
	case MO_ZERO:
		return 0;
	case MO_PAGE:
		return PAGE;
	case MO_LAST:
		return img >= PAGE ? img - PAGE : 0;
	case MO_IMAGE:
		return img;
	case MO_UNALIGNED:
		return PAGE / 2;
	case MO_HUGE:
		return 1ULL << 44;
	default:
		return m->raw_off;
	}
}

static uint64_t mmap_len(const struct fz_mmap *m, uint64_t img, uint64_t off)
{
	uint64_t rest = img > off ? img - off : 0;

	switch (m->len % ML_N) {
	case ML_IMAGE:
		return img;
	case ML_REST:
		return rest;
	case ML_PAGE:
		return PAGE;
	case ML_ONE:
		return 1;
	case ML_ZERO:
		return 0;
	case ML_REST_PLUS:
		return rest + PAGE;
	case ML_IMAGE_PLUS:
		return img + PAGE;
	case ML_IMAGE_MINUS:
		return img ? img - 1 : 0;
	case ML_HUGE:
		return 1ULL << 40;
	default:
		return m->raw_len;
	}
}

/* How a reproducer names the fd of call @c. */
static void fd_desc(char *out, size_t sz, const struct fz_call *c)
{
	unsigned int kind = c->fd % FD_NKINDS;

	if (kind == FD_SLOT || kind == FD_SLOT_RO)
		snprintf(out, sz, "%s%u", kind == FD_SLOT ? "map" : "map_ro", c->slot % FZ_SLOTS);
	else if (kind == FD_WATCH)
		snprintf(out, sz, "watch%u", c->slot % FZ_WSLOTS);
	else
		snprintf(out, sz, "%s", fd_names[kind]);
}

/*
 * What mmap() of a map must answer, where <linux/hmap.h> says it (a map fd,
 * @prot of PROT_READ, PROT_WRITE and PROT_EXEC only, MAP_SHARED,
 * MAP_PRIVATE or MAP_SHARED_VALIDATE alone, a length and an offset that
 * the kernel's own checks pass): 0 (it maps), an errno, or -1 if the call
 * is not one of those. @img is the image's size (0: no HMAP_F_MMAP).
 */
static int mmap_expected(int prot, int flags, uint64_t len, uint64_t off, uint64_t img,
			 bool ro_fd)
{
	bool shared = flags != MAP_PRIVATE;

	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC) ||
	    (flags != MAP_SHARED && flags != MAP_PRIVATE && flags != MAP_SHARED_VALIDATE) ||
	    !len || len > (1ULL << 40) || off % PAGE || off > (1ULL << 44))
		return -1;
	/* The kernel refuses a shared writable mapping of a read-only file first. */
	if (shared && prot & PROT_WRITE && ro_fd)
		return EACCES;
	/* (Executable: EPERM from the kernel first if the file is noexec.) */
	if (!img)
		return prot & PROT_EXEC ? -1 : ENODEV;
	if (prot & (PROT_WRITE | PROT_EXEC))
		return EPERM;
	if (off >= img || (len + PAGE - 1) / PAGE > (img - off) / PAGE)
		return EINVAL;
	return 0;
}

/*
 * OP_MMAP (struct fz_mmap): mmap() of the call's fd, checked against what
 * <linux/hmap.h> promises (mmap_expected(), and never a mapping of an
 * image that can be written or executed, nor one past it, nor of anything
 * but an HMAP_F_MMAP map); then, if it mapped an image, what @then says.
 * Returns 0 if it mapped, else -errno.
 */
static long run_mmap(struct fz_exec *x, const struct fz_call *c, bool *fresh)
{
	struct hmap_info info = { .size = sizeof(info) };
	unsigned int kind = c->fd % FD_NKINDS;
	uint64_t img = 0, off, len, mlen;
	bool is_map, readable;
	int fd, err, prot, flags, want;
	char fdd[48], when[160];
	void *hint = NULL;
	struct fz_mmap m;
	uint8_t *p, *q;
	uint8_t b = 0x5a;

	memcpy(&m, c->data, sizeof(m));
	fd = pick_fd(x, c);
	fd_desc(fdd, sizeof(fdd), c);
	/* Whatever the slot held: what the fd is now decides what must happen. */
	is_map = fd >= 0 && !ioctl(fd, HMAP_IOC_INFO, &info);
	if (is_map)
		img = info.mmap_bytes;
	off = mmap_off(&m, img);
	len = mmap_len(&m, img, off);
	mlen = len > ~0ULL - PAGE ? 0 : (len + PAGE - 1) & ~(PAGE - 1);
	prot = m.prot;
	flags = m.flags & ~(MAP_FIXED | MAP_ANONYMOUS);
	if (flags & MAP_FIXED_NOREPLACE)
		hint = (void *)(uintptr_t)(FZ_MMAP_HINT + ((uint64_t)me << 36));

	kcov_reset();
	p = mmap(hint, len, prot, flags, fd, (off_t)off);
	err = errno;
	if (p == MAP_FAILED) {
		want = is_map ? mmap_expected(prot, flags, len, off, img,
					      info.map_flags & HMAP_F_RDONLY) : -1;
		if (want > 0 && err != want && err != ENOMEM)
			check_fail(x, "mmap(len %#llx, prot %#x, flags %#x, %s, off %#llx) of a map with a %llu-byte image: %s, expected %s",
				   (unsigned long long)len, prot, flags, fdd,
				   (unsigned long long)off, (unsigned long long)img,
				   errname(-err), errname(-want));
		else if (!want && err != ENOMEM)
			check_fail(x, "mmap(len %#llx, PROT_READ, flags %#x, %s, off %#llx) of a %llu-byte image failed: %s",
				   (unsigned long long)len, flags, fdd, (unsigned long long)off,
				   (unsigned long long)img, errname(-err));
		if (kcov_collect())
			*fresh = true;
		return -err;
	}

	/* It mapped: only a read-only mapping inside an image may. */
	if (!is_map) {
		if (kind == FD_DEV || kind == FD_DEV_RO ||
		    (kind == FD_WATCH && x->wknown[c->slot % FZ_WSLOTS]))
			check_fail(x, "mmap of %s mapped it: it has no mmap", fdd);
		munmap(p, mlen ? mlen : PAGE);
		if (kcov_collect())
			*fresh = true;
		return 0;
	}
	if (!img)
		check_fail(x, "mmap of %s mapped it, a map without HMAP_F_MMAP", fdd);
	else if (prot & (PROT_WRITE | PROT_EXEC))
		check_fail(x, "mmap(prot %#x, flags %#x) of %s's image mapped it: writable or executable",
			   prot, flags, fdd);
	else if (off >= img || !mlen || mlen > img - off)
		check_fail(x, "mmap(len %#llx, off %#llx) of %s mapped it, past its %llu-byte image",
			   (unsigned long long)len, (unsigned long long)off, fdd,
			   (unsigned long long)img);
	readable = prot & PROT_READ;
	snprintf(when, sizeof(when), "mmap(len %#llx, prot %#x, flags %#x, %s, off %#llx)",
		 (unsigned long long)len, prot, flags, fdd, (unsigned long long)off);
	if (m.then & MT_TOUCH && readable && !x->check[0])
		read_mapping(x, p, mlen, off, img, info.key_size, info.value_size, when);
	if (m.then & MT_MPROTECT) {
		static const int nope[] = {
			PROT_READ | PROT_WRITE, PROT_WRITE, PROT_READ | PROT_EXEC, PROT_EXEC,
		};
		unsigned int k;

		for (k = 0; k < ARRAY_SIZE(nope); k++) {
			if (!mprotect(p, mlen, nope[k]))
				check_fail(x, "%s, then mprotect(prot %#x) of it succeeded", when,
					   nope[k]);
			else if (errno != EACCES && errno != ENOMEM)
				check_fail(x, "%s, then mprotect(prot %#x) of it: %s, expected EACCES",
					   when, nope[k], errname(-errno));
		}
		/* Readable it may become, whatever it was mapped as. */
		if (!mprotect(p, mlen, PROT_READ))
			readable = true;
	}
	if (m.then & MT_MADVISE) {
		madvise(p, mlen, fz_advice[m.advice % ARRAY_SIZE(fz_advice)].advice);
		if (m.then & MT_TOUCH && readable && !x->check[0])
			read_mapping(x, p, mlen, off, img, info.key_size, info.value_size, when);
	}
	if (m.then & MT_MREMAP) {
		q = mremap(p, mlen, mlen + PAGE, 0);
		if (q == MAP_FAILED)
			q = mremap(p, mlen, mlen + PAGE, MREMAP_MAYMOVE);
		if (q != MAP_FAILED) {
			check_fail(x, "%s, then mremap() of it one page larger succeeded", when);
			p = q;
			mlen += PAGE;
		} else if (mlen > PAGE) {
			/* Smaller it may become. */
			q = mremap(p, mlen, mlen - PAGE, 0);
			if (q != MAP_FAILED)
				mlen -= PAGE;
		}
		if (m.then & MT_TOUCH && readable && !x->check[0])
			read_mapping(x, p, mlen, off, img, info.key_size, info.value_size, when);
	}
	if (m.then & MT_PROCMEM && procmem_fd >= 0 &&
	    pwrite(procmem_fd, &b, 1, (off_t)(uintptr_t)p) == 1)
		check_fail(x, "%s, then a write through /proc/self/mem into it succeeded", when);
	if (m.then & MT_SPLIT && mlen > PAGE && !munmap(p, PAGE)) {
		p += PAGE;
		mlen -= PAGE;
		off += PAGE;
	}
	/*
	 * Kept, but never a MAP_GROWSDOWN one: a fault below it (an ioctl's
	 * pointer into the hole below) would grow it past what we unmap.
	 */
	if (m.then & MT_KEEP && x->nm < FZ_MSLOTS && !(flags & MAP_GROWSDOWN)) {
		unsigned int k = x->nm++;

		x->maddr[k] = p;
		x->mlen[k] = mlen;
		x->moff[k] = off;
		x->mimg[k] = img;
		x->mks[k] = info.key_size;
		x->mvs[k] = info.value_size;
		x->mread[k] = readable && !x->check[0];
		x->mcall[k] = x->cur;
	} else {
		munmap(p, mlen);
	}
	if (kcov_collect())
		*fresh = true;
	return 0;
}

/*
 * Runs call @c of a program. Returns its result (>= 0 or -errno) and sets
 * *@fresh when it reached a new edge.
 */
static long run_pseudo(struct fz_exec *x, const struct fz_call *c, bool *fresh)
{
	bool w = on_watch(c);
	unsigned int s = c->slot % (w ? FZ_WSLOTS : FZ_SLOTS), k;
	int fd = w ? x->wfd[s] : x->fd[s];
	long ret;

	switch (pseudo_op(c)) {
	case OP_READ:
		return run_read(x, c, fresh);
	case OP_POLL:
		return run_poll(x, c, fresh);
	case OP_FDINFO:
		return run_fdinfo(x, c, fresh);
	case OP_MMAP:
		return run_mmap(x, c, fresh);
	case OP_CLOSE:
		kcov_reset();
		ret = close(fd) ? -errno : 0;
		/* A number since reused by another slot is that slot's to close. */
		forget_fd(x, fd);
		break;
	default:
		kcov_reset();
		ret = dup(fd);
		ret = ret < 0 ? -errno : ret;
		if (ret >= 0)
			forget_fd(x, ret);
		if (ret >= 0 && !w && x->n < FZ_SLOTS) {
			x->fd[x->n] = ret;
			x->key_size[x->n] = x->key_size[s];
			x->value_size[x->n] = x->value_size[s];
			x->id[x->n] = x->id[s];
			x->version[x->n] = x->version[s];
			x->n++;
		} else if (ret >= 0 && w && x->nw < FZ_WSLOTS) {
			/* The same watch: one stream, whichever fd reads it. */
			k = x->nw++;
			x->wfd[k] = ret;
			x->wknown[k] = x->wknown[s] && !x->wclosed[s];
			x->wfmt[k] = x->wfmt[s];
			x->wvalues[k] = x->wvalues[s];
			x->wks[k] = x->wks[s];
			x->wvs[k] = x->wvs[s];
			x->wstream[k] = x->wstream[s];
		} else if (ret >= 0) {
			close(ret);
		}
		break;
	}
	if (kcov_collect())
		*fresh = true;
	return ret;
}

static long run_call(struct fz_exec *x, const struct fz_call *c, bool *fresh)
{
	const struct fz_cmd *cmd = &fz_cmds[c->op % FZ_NCMDS];
	unsigned int s = c->slot % FZ_SLOTS, i, np = 0;
	uint32_t ks = 8, vs = 8, count = 0;
	size_t wlen, n;
	uint8_t *wr, *buf;
	unsigned long nr = c->nr ? c->nr : cmd->nr;
	uint64_t argp;
	double t0;
	long ret;
	int fd, err;

	if (is_pseudo(c))
		return run_pseudo(x, c, fresh);
	fd = pick_fd(x, c);
	if ((c->fd == FD_SLOT || c->fd == FD_SLOT_RO) && x->fd[s] >= 0) {
		ks = x->key_size[s];
		vs = x->value_size[s];
	} else if (x->fd[0] >= 0) {
		ks = x->key_size[0];
		vs = x->value_size[0];
	}

	/* The struct: its bytes, zeros up to len, the tail byte. */
	argp = place(0, c->argp == P_RAW ? P_VALID : c->argp, c->len, c->argx, &buf, &wlen);
	if (buf) {
		n = wlen < FZ_DATA ? wlen : FZ_DATA;
		memcpy(buf, c->data, n);
		if (wlen > n)
			memset(buf + n, 0, wlen - n);
		if (c->tail_val && c->tail_off >= FZ_DATA && c->tail_off < wlen)
			buf[c->tail_off] = c->tail_val;
	}
	/* The buffers its pointer fields point to, in their own slabs. */
	for (i = 0; i < cmd->nfields; i++) {
		const struct fz_field *f = &cmd->fields[i];

		if (f->kind == F_INT && !strcmp(f->name, "count"))
			count = get_field(c, f);
	}
	for (i = 0; i < cmd->nfields; i++) {
		const struct fz_field *f = &cmd->fields[i];
		uint64_t need, a;

		if (f->kind != F_PTR)
			continue;
		if (c->pkind[np] != P_RAW) {
			need = role_bytes(f, ks, vs, count);
			a = place(1 + np, c->pkind[np], need, c->px[np], &wr, &n);
			if (wr)
				fill_elems(wr, n, f->role == R_VALUE || f->role == R_VALUES ? vs :
					   f->role == R_STATUS ? 4 : ks, c->pfill[np]);
			if (buf && f->off + 8U <= wlen)
				memcpy(buf + f->off, &a, 8);
		}
		np++;
	}
	if (c->idref && buf) {
		uint32_t id = x->id[(c->idref - 1) % FZ_SLOTS];

		if (c->op == C_OPEN_ID && wlen >= offsetofend(struct hmap_open_by_id, id))
			memcpy(buf + offsetof(struct hmap_open_by_id, id), &id, 4);
		if (c->op == C_NEXT_ID && wlen >= offsetofend(struct hmap_get_next_id, start_id)) {
			id = id ? id - 1 : 0;
			memcpy(buf + offsetof(struct hmap_get_next_id, start_id), &id, 4);
		}
		if ((c->op == C_UPDATE || c->op == C_DELETE) &&
		    wlen >= offsetofend(struct hmap_elem_op, version))
			memcpy(buf + offsetof(struct hmap_elem_op, version),
			       &x->version[(c->idref - 1) % FZ_SLOTS], 8);
	}
	/* A buffer sized from the map's records. */
	if (c->aux && c->op == C_WATCH && buf &&
	    wlen >= offsetofend(struct hmap_watch, buf_bytes)) {
		unsigned int b = rel_size(c->aux, ks, vs);

		memcpy(buf + offsetof(struct hmap_watch, buf_bytes), &b, 4);
	}

	if (c->as_user)
		become_user(true);
	kcov_reset();
	t0 = now();
	ret = ioctl(fd, nr, (unsigned long)argp);
	err = errno;
	shm->secs[me][c->op % FZ_NCMDS] += now() - t0;
	if (kcov_collect())
		*fresh = true;
	if (c->as_user)
		become_user(false);
	/* No file but hmap's own answers its commands: a watch fd has none. */
	if (on_watch(c) && x->wknown[c->slot % FZ_WSLOTS] && _IOC_TYPE(nr) == HMAP_TYPE &&
	    (ret >= 0 || err != ENOTTY))
		check_fail(x, "ioctl %#lx (%s layout) on watch%u: %ld (%s), not ENOTTY",
			   nr, cmd->name, c->slot % FZ_WSLOTS, ret, ret < 0 ? errname(-err) : "ok");
	/* Nor does /dev/hmap watch, before it reads the struct. */
	if ((c->fd % FD_NKINDS == FD_DEV || c->fd % FD_NKINDS == FD_DEV_RO) && fd >= 0 &&
	    nr == HMAP_IOC_WATCH && (ret >= 0 || err != EBADFD))
		check_fail(x, "WATCH on %s: %ld (%s), not EBADFD", fd_names[c->fd % FD_NKINDS],
			   ret, ret < 0 ? errname(-err) : "ok");
	/* A version that came back, for a later HMAP_IF_VERSION to use. */
	if ((ret >= 0 || err == ESTALE || err == EEXIST) && !c->nr && buf &&
	    version_off(c->op) && (c->fd == FD_SLOT || c->fd == FD_SLOT_RO) &&
	    wlen >= version_off(c->op) + 8 &&
	    get_field(c, &cmd->fields[0]) >= version_off(c->op) + 8) {
		uint64_t v;

		memcpy(&v, buf + version_off(c->op), 8);
		if (v)
			x->version[s] = v;
	}
	if (ret < 0)
		return -err;
	if (ret > 0 && fd >= 0 && nr == HMAP_IOC_WATCH) {
		adopt_watch(x, ret, fd, buf, wlen);
	} else if (ret > 0 && fd >= 0) {
		/* A new map fd. */
		adopt_fd(x, ret);
	} else if (!ret && nr == HMAP_IOC_PUBLISH && buf &&
		   x->npub < FZ_MAX_CALLS && wlen >= sizeof(struct hmap_publish)) {
		/* Whatever layout the call had, the kernel read a publish. */
		memcpy(x->pub[x->npub++], buf + offsetof(struct hmap_publish, name),
		       HMAP_NAME_LEN);
	}
	return ret;
}

/* ---- reporting ---- */

static const char *errname(long r)
{
	static char b[32];

	switch (-r) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EBADF: return "EBADF";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case ENOSPC: return "ENOSPC";
	case E2BIG: return "E2BIG";
	case EBADFD: return "EBADFD";
	case EDQUOT: return "EDQUOT";
	case ESTALE: return "ESTALE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EAGAIN: return "EAGAIN";
	case ENODEV: return "ENODEV";
	case EOVERFLOW: return "EOVERFLOW";
	case EIO: return "EIO";
	}
	snprintf(b, sizeof(b), "errno %ld", -r);
	return b;
}

static void print_name(char *out, size_t sz, const uint8_t *n)
{
	size_t i, o = 0;

	o += snprintf(out + o, sz - o, "\"");
	for (i = 0; i < HMAP_NAME_LEN && o + 6 < sz; i++) {
		if (!n[i]) {
			size_t j;

			for (j = i; j < HMAP_NAME_LEN && !n[j]; j++)
				;
			if (j == HMAP_NAME_LEN)
				break;
			o += snprintf(out + o, sz - o, "\\0");
		} else if (isprint(n[i]) && n[i] != '"' && n[i] != '\\') {
			out[o++] = n[i];
		} else {
			o += snprintf(out + o, sz - o, "\\x%02x", n[i]);
		}
	}
	snprintf(out + o, sz - o, "\"%s", i == HMAP_NAME_LEN && n[HMAP_NAME_LEN - 1] ? " (no NUL)" : "");
}

static void describe_ptr(char *out, size_t sz, unsigned int kind, unsigned int x,
			 uint8_t fill, const char *what)
{
	static const char *const unmapped_names[] = {
		"(void *)0x1000", "&guard_page(PROT_NONE)", "&unmapped_page",
		"(end of user space - need/2)",
	};

	switch (kind % P_NKINDS) {
	case P_NULL:
		snprintf(out, sz, "NULL");
		break;
	case P_SHORT:
		snprintf(out, sz, "&buf(%s, %u bytes short, ends at a PROT_NONE page, fill 0x%02x)",
			 what, x, fill);
		break;
	case P_UNMAPPED:
		snprintf(out, sz, "%s", unmapped_names[x % ARRAY_SIZE(unmapped_names)]);
		break;
	case P_KERNEL:
	case P_NONCANON: {
		uint8_t *w;
		size_t l;

		snprintf(out, sz, "(void *)0x%" PRIx64 " (%s)",
			 place(1, kind, 0, x, &w, &l), p_names[kind]);
		break;
	}
	case P_MISALIGN:
		snprintf(out, sz, "&buf(%s, at offset %u, fill 0x%02x)", what, 1 + x % 63, fill);
		break;
	default:
		snprintf(out, sz, "&buf(%s, %s, fill 0x%02x)", what, p_names[kind % P_NKINDS], fill);
		break;
	}
}

struct fz_bit {
	uint32_t bit;
	const char *name;
};

static const struct fz_bit prot_bits[] = {
	{ PROT_READ, "PROT_READ" }, { PROT_WRITE, "PROT_WRITE" }, { PROT_EXEC, "PROT_EXEC" },
	{ PROT_SEM, "PROT_SEM" }, { PROT_GROWSDOWN, "PROT_GROWSDOWN" },
	{ PROT_GROWSUP, "PROT_GROWSUP" },
};

static const struct fz_bit map_bits[] = {
	{ MAP_32BIT, "MAP_32BIT" }, { MAP_GROWSDOWN, "MAP_GROWSDOWN" },
	{ MAP_DENYWRITE, "MAP_DENYWRITE" }, { MAP_EXECUTABLE, "MAP_EXECUTABLE" },
	{ MAP_LOCKED, "MAP_LOCKED" }, { MAP_NORESERVE, "MAP_NORESERVE" },
	{ MAP_POPULATE, "MAP_POPULATE" }, { MAP_NONBLOCK, "MAP_NONBLOCK" },
	{ MAP_STACK, "MAP_STACK" }, { MAP_HUGETLB, "MAP_HUGETLB" }, { MAP_SYNC, "MAP_SYNC" },
	{ MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE" },
};

/* Appends the names of @v's bits in @t to @out ("A|B|0x40" for the rest). */
static void bit_names(char *out, size_t sz, uint32_t v, const struct fz_bit *t, size_t n)
{
	size_t o = strlen(out), k;

	for (k = 0; k < n && o < sz; k++) {
		if (!(v & t[k].bit))
			continue;
		o += snprintf(out + o, sz - o, "%s%s", o ? "|" : "", t[k].name);
		v &= ~t[k].bit;
	}
	if (v && o < sz)
		snprintf(out + o, sz - o, "%s%#x", o ? "|" : "", v);
}

/* An OP_MMAP call, as mmap() and what follows it. */
static void print_mmap(const struct fz_call *c, unsigned int i, const char *result)
{
	static const char *const types[] = {
		"", "MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE",
	};
	char fdd[48], prot[128] = "", flags[256], hint[48] = "NULL", len[48], off[48];
	char then[512];
	struct fz_mmap m;
	uint32_t f;
	size_t o = 0;

	memcpy(&m, c->data, sizeof(m));
	f = m.flags & ~(MAP_FIXED | MAP_ANONYMOUS);
	fd_desc(fdd, sizeof(fdd), c);
	bit_names(prot, sizeof(prot), m.prot, prot_bits, ARRAY_SIZE(prot_bits));
	if (!prot[0])
		snprintf(prot, sizeof(prot), "PROT_NONE");
	snprintf(flags, sizeof(flags), "%s", types[f & MAP_TYPE & 3]);
	bit_names(flags, sizeof(flags), f & ~3U, map_bits, ARRAY_SIZE(map_bits));
	if (!flags[0])
		snprintf(flags, sizeof(flags), "0");
	if (f & MAP_FIXED_NOREPLACE)
		snprintf(hint, sizeof(hint), "(void *)%#llx",
			 FZ_MMAP_HINT + ((unsigned long long)me << 36));
	if (m.len % ML_N == ML_RAW)
		snprintf(len, sizeof(len), "%#llx", (unsigned long long)m.raw_len);
	else
		snprintf(len, sizeof(len), "%s", ml_names[m.len % ML_N]);
	if (m.off % MO_N == MO_RAW)
		snprintf(off, sizeof(off), "%#llx", (unsigned long long)m.raw_off);
	else
		snprintf(off, sizeof(off), "%s", mo_names[m.off % MO_N]);
	ksft_print_msg("  [%u] mmap(%s, %s, %s, %s, %s, %s)%s%s\n", i, hint, len, prot, flags,
		       fdd, off, result ? " = " : "", result ? result : "");
	if (m.then & MT_TOUCH)
		o += snprintf(then + o, sizeof(then) - o, "read a byte of each page; ");
	if (m.then & MT_MPROTECT)
		o += snprintf(then + o, sizeof(then) - o,
			      "mprotect() to RW, W, RX, X (must fail), then to PROT_READ; ");
	if (m.then & MT_MADVISE && o < sizeof(then))
		o += snprintf(then + o, sizeof(then) - o, "madvise(%s)%s; ",
			      fz_advice[m.advice % ARRAY_SIZE(fz_advice)].name,
			      m.then & MT_TOUCH ? " and read again" : "");
	if (m.then & MT_MREMAP && o < sizeof(then))
		o += snprintf(then + o, sizeof(then) - o,
			      "mremap() a page larger (must fail), then a page smaller%s; ",
			      m.then & MT_TOUCH ? " and read again" : "");
	if (m.then & MT_PROCMEM && o < sizeof(then))
		o += snprintf(then + o, sizeof(then) - o,
			      "pwrite() a byte into it through /proc/self/mem (must fail); ");
	if (m.then & MT_SPLIT && o < sizeof(then))
		o += snprintf(then + o, sizeof(then) - o, "munmap() its first page; ");
	if (o < sizeof(then))
		snprintf(then + o, sizeof(then) - o, "%s",
			 m.then & MT_KEEP ? "keep the rest mapped until the program's fds are closed, read it then, munmap()" :
			 "munmap()");
	ksft_print_msg("      if it maps: %s\n", then);
}

static void print_pseudo(const struct fz_call *c, unsigned int i, const char *result)
{
	unsigned int op = pseudo_op(c), count;
	char what[32], v[200];

	if (op == OP_MMAP) {
		print_mmap(c, i, result);
		return;
	}

	snprintf(what, sizeof(what), "%s%u", on_watch(c) ? "watch" : "map",
		 c->slot % (on_watch(c) ? FZ_WSLOTS : FZ_SLOTS));
	if (op == OP_CLOSE || op == OP_DUP || op == OP_FDINFO) {
		ksft_print_msg("  [%u] %s(%s)%s%s\n", i, pseudo_names[op - FZ_NCMDS], what,
			       result ? " = " : "", result ? result : "");
	} else if (op == OP_POLL) {
		ksft_print_msg("  [%u] %s(%s, POLLIN, timeout 0)%s%s\n", i,
			       c->argx & 1 ? "epoll_ctl(ADD) + epoll_wait" : "poll",
			       what, result ? " = " : "", result ? result : "");
	} else {
		memcpy(&count, c->data, sizeof(count));
		if (c->aux)
			snprintf(v, sizeof(v), "%s of %s's map", rel_names[c->aux %
				 ARRAY_SIZE(rel_names)], what);
		else
			snprintf(v, sizeof(v), "%u", count);
		ksft_print_msg("  [%u] read(%s, buf, %s)%s%s\n", i, what, v,
			       result ? " = " : "", result ? result : "");
		if (c->argp == P_VALID)
			snprintf(v, sizeof(v), "page-aligned");
		else if (c->argp == P_SHORT)
			snprintf(v, sizeof(v), "%u bytes short, then a PROT_NONE page", c->argx);
		else
			describe_ptr(v, sizeof(v), c->argp, c->argx, 0xa5, "count");
		ksft_print_msg("      buf: %s; the fd O_NONBLOCK for the read\n", v);
	}
}

static void print_call(const struct fz_call *c, unsigned int i, const char *result)
{
	const struct fz_cmd *cmd = &fz_cmds[c->op % FZ_NCMDS];
	char fdd[48], nr[64], line[1024], v[200];
	unsigned int k, np = 0;
	size_t o = 0;

	if (is_pseudo(c)) {
		print_pseudo(c, i, result);
		return;
	}
	if (c->fd == FD_SLOT || c->fd == FD_SLOT_RO)
		snprintf(fdd, sizeof(fdd), "%s%u", c->fd == FD_SLOT ? "map" : "map_ro", c->slot % FZ_SLOTS);
	else if (on_watch(c))
		snprintf(fdd, sizeof(fdd), "watch%u", c->slot % FZ_WSLOTS);
	else
		snprintf(fdd, sizeof(fdd), "%s", fd_names[c->fd % FD_NKINDS]);
	if (c->nr)
		snprintf(nr, sizeof(nr), "0x%x /* %s layout */", c->nr, cmd->name);
	else
		snprintf(nr, sizeof(nr), "%s", cmd->name);
	ksft_print_msg("  [%u] ioctl(%s, %s, &arg)%s%s%s\n", i, fdd, nr,
		       c->as_user ? " as fsuid/fsgid 1000, no capabilities" : "", result ? " = " : "",
		       result ? result : "");
	switch (c->argp) {
	case P_VALID:
	case P_RAW:
	case P_RDONLY:
	case P_STRADDLE:
		snprintf(v, sizeof(v), "%u bytes, %s", c->len, p_names[c->argp]);
		break;
	case P_SHORT:
		snprintf(v, sizeof(v), "%u bytes then a PROT_NONE page",
			 c->len > c->argx ? c->len - c->argx : 0);
		break;
	case P_MISALIGN:
		snprintf(v, sizeof(v), "%u bytes at page offset %u", c->len, 1 + c->argx % 63);
		break;
	default:
		describe_ptr(v, sizeof(v), c->argp, c->argx, 0, "arg");
		break;
	}
	o += snprintf(line + o, sizeof(line) - o, "arg (%s): {", v);
	for (k = 0; k < cmd->nfields && o < sizeof(line) - 1; k++) {
		const struct fz_field *f = &cmd->fields[k];

		if (f->kind == F_NAME) {
			print_name(v, sizeof(v), c->data + f->off);
		} else if (f->kind == F_PTR) {
			const char *what = f->role == R_KEY ? "key_size" :
				f->role == R_VALUE ? "value_size" :
				f->role == R_KEYS ? "count * key_size" :
				f->role == R_VALUES ? "count * value_size" : "count * 4";

			if (c->pkind[np] == P_RAW)
				snprintf(v, sizeof(v), "0x%" PRIx64, get_field(c, f));
			else
				describe_ptr(v, sizeof(v), c->pkind[np], c->px[np], c->pfill[np], what);
			np++;
		} else if (c->idref && ((c->op == C_OPEN_ID && !strcmp(f->name, "id")) ||
					(c->op == C_NEXT_ID && !strcmp(f->name, "start_id")))) {
			snprintf(v, sizeof(v), "id of map%u%s", (c->idref - 1) % FZ_SLOTS,
				 c->op == C_NEXT_ID ? " - 1" : "");
		} else if (c->aux && c->op == C_WATCH && !strcmp(f->name, "buf_bytes")) {
			snprintf(v, sizeof(v), "%s of the map",
				 rel_names[c->aux % ARRAY_SIZE(rel_names)]);
		} else if (c->idref && (c->op == C_UPDATE || c->op == C_DELETE) &&
			   !strcmp(f->name, "version")) {
			snprintf(v, sizeof(v), "the last version seen on map%u",
				 (c->idref - 1) % FZ_SLOTS);
		} else {
			snprintf(v, sizeof(v), "%#" PRIx64, get_field(c, f));
		}
		o += snprintf(line + o, sizeof(line) - o, "%s.%s = %s", k ? ", " : " ", f->name, v);
	}
	if (o < sizeof(line))
		snprintf(line + o, sizeof(line) - o, " }");
	ksft_print_msg("      %s\n", line);
	/* Set bytes outside the fields shown: INFO's outputs, padding, tails. */
	for (k = 0; k < FZ_DATA && k < c->len; k++) {
		unsigned int j;
		bool named = false;

		for (j = 0; j < cmd->nfields && !named; j++)
			named = k >= cmd->fields[j].off &&
				k < cmd->fields[j].off + cmd->fields[j].width;
		if (c->data[k] && !named)
			ksft_print_msg("      arg byte %u = 0x%02x\n", k, c->data[k]);
	}
	if (c->tail_val && c->tail_off >= FZ_DATA && c->tail_off < c->len)
		ksft_print_msg("      arg byte %u = 0x%02x\n", c->tail_off, c->tail_val);
}

/* Hex, with runs of zero bytes as "zN.". */
static void print_hex(const struct fz_prog *p, const char *prefix)
{
	size_t n = offsetof(struct fz_prog, call) + p->ncalls * sizeof(p->call[0]), i, z;
	const uint8_t *b = (const uint8_t *)p;
	char *out = malloc(n * 2 + 16), *o = out;

	if (!out)
		return;
	for (i = 0; i < n; ) {
		for (z = 0; i + z < n && !b[i + z]; z++)
			;
		if (z >= 3) {
			o += sprintf(o, "z%zu.", z);
			i += z;
		} else {
			o += sprintf(o, "%02x", b[i++]);
		}
	}
	ksft_print_msg("%s%s\n", prefix, out);
	free(out);
}

static int parse_hex(const char *s, struct fz_prog *p)
{
	uint8_t *b = (uint8_t *)p;
	size_t n = 0, max = sizeof(*p);
	unsigned int v;

	memset(p, 0, sizeof(*p));
	while (*s && n < max) {
		if (*s == 'z') {
			char *e;
			unsigned long z = strtoul(s + 1, &e, 10);

			if (*e != '.' || n + z > max)
				return -1;
			n += z;
			s = e + 1;
		} else if (sscanf(s, "%2x", &v) == 1 && isxdigit(s[1])) {
			b[n++] = v;
			s += 2;
		} else {
			return -1;
		}
	}
	return p->ncalls >= 1 && p->ncalls <= FZ_MAX_CALLS ? 0 : -1;
}

static void print_prog(const struct fz_prog *p, const int32_t *ret, int cur)
{
	char r[48];
	unsigned int i;

	for (i = 0; i < p->ncalls && i < FZ_MAX_CALLS; i++) {
		if (ret && (int)i == cur)
			snprintf(r, sizeof(r), "(running when it happened)");
		else if (ret && cur >= 0 && (int)i > cur)
			snprintf(r, sizeof(r), "(not reached)");
		else if (ret && ret[i] < 0)
			snprintf(r, sizeof(r), "-1 %s", errname(ret[i]));
		else if (ret)
			snprintf(r, sizeof(r), "%d", ret[i]);
		print_call(&p->call[i], i, ret ? r : NULL);
	}
	if (ret && cur >= 0 && cur < (int)p->ncalls) {
		/* The calls not reached are not part of the reproducer. */
		struct fz_prog t = *p;

		t.ncalls = cur + 1;
		print_hex(&t, "  replay: hmap_fuzz --replay ");
	} else {
		print_hex(p, "  replay: hmap_fuzz --replay ");
	}
}

static void print_legend(void)
{
	ksft_print_msg("  (a program starts with /dev/hmap open; map fds that CREATE or OPEN_* return go to\n");
	ksft_print_msg("   slots map0..map3, watch fds that WATCH returns to watch0..watch3;\n");
	ksft_print_msg("   map_roN is OPEN_BY_ID(id of mapN, HMAP_F_RDONLY); buffer element i\n");
	ksft_print_msg("   holds the u64 (fill & 15) + i, zero-padded, or with fill >= 0x80 that byte repeated;\n");
	ksft_print_msg("   'short' buffers and args end at a PROT_NONE page; an mmap's length and offset\n");
	ksft_print_msg("   are relative to the image of the map its fd is (INFO.mmap_bytes, 0 for other fds),\n");
	ksft_print_msg("   it never passes MAP_FIXED nor MAP_ANONYMOUS; after its last call a program\n");
	ksft_print_msg("   unpublishes the names it published and closes every fd it holds)\n");
}

static int cmp_seq(const void *a, const void *b)
{
	const struct fz_ring_slot *x = *(const struct fz_ring_slot *const *)a;
	const struct fz_ring_slot *y = *(const struct fz_ring_slot *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Prints the newest programs of @n ring slots: the one running (if any)
 * and the one before it, which left state behind for RCU callbacks and
 * workers to trip on.
 */
static void print_slots(struct fz_ring_slot **slot, unsigned int n, const char *who)
{
	unsigned int i, k;

	qsort(slot, n, sizeof(slot[0]), cmp_seq);
	for (i = n, k = 0; i-- > 0 && k < 2; ) {
		const struct fz_ring_slot *r = slot[i];

		if (!r->seq)
			continue;
		ksft_print_msg("reproducer: %s, program %" PRIu64 " (run seed %#" PRIx64 ")%s\n",
			       who, r->seq, r->nonce,
			       r->cur >= 0 ? ": a call was running" :
			       r->cur == -2 ? ": its cleanup was running" :
			       k ? ": the one before" : ": the last one it ran");
		print_prog(&r->prog, r->ret, r->cur >= 0 ? r->cur : -1);
		k++;
	}
}

static void print_executor(unsigned int p, const char *why)
{
	struct fz_ring_slot *slot[FZ_RING];
	char who[96];
	unsigned int i;

	for (i = 0; i < FZ_RING; i++)
		slot[i] = &rings[p * FZ_RING + i];
	snprintf(who, sizeof(who), "%s executor %u (pid %d)", why, p, pids[p]);
	print_slots(slot, FZ_RING, who);
}

/* ---- kernel reports ---- */

/* The same list scripts/vm.sh fails a run on. */
static const char splat_re[] =
	"BUG:|WARNING:|Oops|suspected memory leak|cut here|Call Trace|general protection|"
	"Kernel panic|KASAN|UBSAN|unreferenced object|possible recursive locking|"
	"possible circular locking|inconsistent lock state|suspicious RCU usage|"
	"DEBUG_LOCKS_WARN_ON|lockdep is turned off|sleeping function called|"
	"scheduling while atomic|rcu_.*stall|INFO: task .* blocked|refcount_t:|"
	"list_add corruption|list_del corruption|stack-protector";
static regex_t splat_rx;

/* Copies a string, cutting it to fit. */
static void copy_str(char *dst, size_t sz, const char *src)
{
	size_t n = strlen(src);

	if (n >= sz)
		n = sz - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Next record's text from /dev/kmsg, without the header; false if none. */
static bool kmsg_next(int fd, char *text, size_t sz)
{
	char rec[2048], *p, *nl;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on with the next */
		if (n <= 0)
			return false;
		rec[n] = 0;
		p = strchr(rec, ';');
		p = p ? p + 1 : rec;
		nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		copy_str(text, sz, p);
		return true;
	}
}

/* ---- the executor ---- */

static void exec_setup_fds(void)
{
	int fd;

	dev_fd = open("/dev/hmap", O_RDWR | O_CLOEXEC);
	dev_ro_fd = open("/dev/hmap", O_RDONLY | O_CLOEXEC);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK))
		pipe_fds[0] = pipe_fds[1] = -1;
	/* A number above any the programs get, so it stays closed. */
	fd = fcntl(dev_fd, F_DUPFD_CLOEXEC, 900);
	close(fd);
	closed_fd = fd;
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	procmem_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	touch_setup();
}

static void count_result(const struct fz_call *c, int32_t ret)
{
	unsigned int k = ret >= 0 ? 0 : -ret < FZ_ERRNOS ? -ret : FZ_ERRNOS - 1;

	if (is_pseudo(c))
		shm->results[me][pseudo_op(c)][k]++;
	else if (!c->nr)
		shm->results[me][c->op % FZ_NCMDS][k]++;
}

/* Runs one program into ring slot @r; true if it reached new edges. */
static bool run_prog(struct fz_exec *x, struct fz_ring_slot *r, unsigned int *last_new)
{
	bool fresh_any = false, fresh, pseudo;
	unsigned int i, check_at = 0;
	double t0;

	r->seq = __atomic_add_fetch(&shm->progs, 1, __ATOMIC_RELAXED);
	r->cur = 0;
	*last_new = 0;
	for (i = 0; i < r->prog.ncalls; i++) {
		fresh = false;
		pseudo = is_pseudo(&r->prog.call[i]);
		__atomic_store_n(&r->cur, (int32_t)i, __ATOMIC_RELAXED);
		x->cur = i;
		t0 = now();
		r->ret[i] = run_call(x, &r->prog.call[i], &fresh);
		if (pseudo)
			shm->secs[me][pseudo_op(&r->prog.call[i])] += now() - t0;
		shm->pexecs[me]++;
		count_result(&r->prog.call[i], r->ret[i]);
		if (!pseudo)
			__atomic_add_fetch(&shm->execs, 1, __ATOMIC_RELAXED);
		if (fresh) {
			fresh_any = true;
			*last_new = i + 1;
		}
		if (x->check[0] && !check_at)
			check_at = i + 1;
	}
	r->cur = -2;	/* cleanup: closing fds, unpublishing, unmapping */
	kcov_reset();
	exec_cleanup(x);
	if (kcov_collect()) {
		fresh_any = true;
		*last_new = r->prog.ncalls;
	}
	/* A mapping kept to the end, read after the fds closed. */
	if (x->check[0] && !check_at)
		check_at = r->prog.ncalls + 1;
	/* A failed check stops the run, as a kernel report does. */
	if (check_at && !__atomic_exchange_n(&shm->failed_check, me + 1, __ATOMIC_ACQ_REL)) {
		if (check_at > r->prog.ncalls)
			snprintf(shm->check_line, sizeof(shm->check_line), "after the last call: %s",
				 x->check);
		else
			snprintf(shm->check_line, sizeof(shm->check_line), "call [%u]: %s",
				 check_at - 1, x->check);
		__atomic_store_n(&shm->stop, 1, __ATOMIC_RELEASE);
	}
	exec_reset(x);
	r->cur = -1;
	return fresh_any;
}

static void corpus_add(const struct fz_prog *p, unsigned int ncalls)
{
	uint32_t n;

	while (__atomic_exchange_n(&shm->corpus_lock, 1, __ATOMIC_ACQUIRE))
		;
	n = shm->corpus_n;
	if (n < FZ_CORPUS_MAX) {
		shm->corpus[n] = *p;
		shm->corpus[n].ncalls = ncalls;
		__atomic_store_n(&shm->corpus_n, n + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&shm->corpus_lock, 0, __ATOMIC_RELEASE);
}

/*
 * Runs the programs of a corpus file (HMAP_FUZZ_CORPUS: "corpus-entry HEX"
 * lines, as a previous run printed them) and keeps those that still reach
 * new edges.
 */
static void run_seeds(struct fz_exec *x, struct fz_ring_slot *r)
{
	const char *path = getenv("HMAP_FUZZ_CORPUS");
	char *line = NULL, *h;
	unsigned int last_new, n = 0, kept = 0;
	size_t cap = 0;
	FILE *f;

	if (!path || !*path)
		return;
	f = fopen(path, "r");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0 && !shm->stop) {
		h = strstr(line, "corpus-entry ");
		if (!h)
			continue;
		h += strlen("corpus-entry ");
		h[strcspn(h, " \r\n")] = 0;
		if (parse_hex(h, &r->prog))
			continue;
		n++;
		if (run_prog(x, r, &last_new) && shm->kcov) {
			corpus_add(&r->prog, r->prog.ncalls);
			kept++;
		}
	}
	free(line);
	fclose(f);
	shm->seeds = n;
	shm->seeds_kept = kept;
}

static int executor(void)
{
	double t_end = budget_secs > 0 ? now() + budget_secs : 0;
	struct fz_ring_slot *ring = &rings[me * FZ_RING];
	unsigned int ri = 0, last_new, i, n = 0;
	struct fz_exec x;
	char text[512];

	exec_setup_fds();
	if (dev_fd < 0 || arena_init())
		return 2;
	kmsg_fd = kmsg_open();
	if (shm->kcov) {
		kcov_open();
		if (!kcov_area || kcov_calibrate()) {
			if (!shm->kcov_note[0])
				snprintf(shm->kcov_note, sizeof(shm->kcov_note),
					 "kcov recorded no PC inside hmap.ko's text");
			shm->kcov = 0;
			if (kcov_area)
				ioctl(kcov_fd, KCOV_DISABLE, 0);
			kcov_area = NULL;
		}
	}
	exec_reset(&x);
	rng_state = seed + me * 0x9E3779B97F4A7C15ULL;
	if (!rng_state)
		rng_state = 1;
	for (i = 0; i < FZ_RING; i++)
		ring[i].nonce = seed;

	if (!me)
		run_seeds(&x, &ring[ri++]);
	while (!__atomic_load_n(&shm->stop, __ATOMIC_RELAXED)) {
		struct fz_ring_slot *r = &ring[ri];
		struct fz_prog *p = &r->prog;
		uint32_t cn = __atomic_load_n(&shm->corpus_n, __ATOMIC_ACQUIRE);

		ri = (ri + 1) % FZ_RING;
		if (!shm->kcov) {
			/* Unguided: fresh programs, lightly mutated, never drifting. */
			gen_prog(p);
			if (one_in(2))
				mutate_prog(p, NULL);
		} else if (!cn || one_in(10)) {
			gen_prog(p);
		} else {
			*p = shm->corpus[rnd(cn)];
			mutate_prog(p, one_in(4) ? &shm->corpus[rnd(cn)] : NULL);
		}
		/* Calls after the last one that found something add nothing. */
		if (run_prog(&x, r, &last_new) && shm->kcov)
			corpus_add(p, last_new ? last_new : p->ncalls);
		/* A report printed while this program ran names it. */
		while (kmsg_fd >= 0 && kmsg_next(kmsg_fd, text, sizeof(text))) {
			if (regexec(&splat_rx, text, 0, NULL, 0))
				continue;
			if (!__atomic_exchange_n(&shm->splat, 1, __ATOMIC_ACQ_REL))
				copy_str(shm->splat_line, sizeof(shm->splat_line), text);
			__atomic_store_n(&shm->stop, 1, __ATOMIC_RELEASE);
			return 1;
		}
		if (budget_execs && shm->execs >= budget_execs)
			break;
		if (t_end && !(++n % 8) && now() >= t_end)
			break;
	}
	return 0;
}

/* ---- the parent ---- */

static unsigned long long read_num(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static int write_num(const char *path, unsigned long long v)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%llu\n", v) < 0;
	return fclose(f) || ret ? -1 : 0;
}

/* Unpublishes every name left on a live map (an executor died mid-way). */
static void sweep_names(void)
{
	struct hmap_get_next_id g = { .size = sizeof(g) };
	int dfd = open("/dev/hmap", O_RDWR | O_CLOEXEC);

	while (dfd >= 0 && !ioctl(dfd, HMAP_IOC_GET_NEXT_ID, &g)) {
		struct hmap_open_by_id o = { .size = sizeof(o), .id = g.next_id,
					     .flags = HMAP_F_RDONLY };
		struct hmap_info info = { .size = sizeof(info) };
		struct hmap_unpublish u = { .size = sizeof(u) };
		int fd = ioctl(dfd, HMAP_IOC_OPEN_BY_ID, &o);

		g.start_id = g.next_id;
		if (fd < 0)
			continue;
		if (!ioctl(fd, HMAP_IOC_INFO, &info) && info.pub_name[0]) {
			memcpy(u.name, info.pub_name, HMAP_NAME_LEN);
			ioctl(dfd, HMAP_IOC_UNPUBLISH, &u);
		}
		close(fd);
	}
	if (dfd >= 0)
		close(dfd);
}

static bool kernel_died(void)
{
	/* TAINT_DIE: an oops happened. */
	return read_num("/proc/sys/kernel/tainted") & (1ULL << 7);
}

struct fz_sym {
	uint64_t addr;
	char name[64];
	unsigned int pcs;
};

static int cmp_sym(const void *a, const void *b)
{
	const struct fz_sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * Covered PCs per function of hmap.ko (kallsyms): all of them with
 * HMAP_FUZZ_COVER set (scripts/fuzz.sh sets it and adds the totals from
 * the .ko), else the functions never entered.
 */
static void print_coverage(void)
{
	static struct fz_sym sym[2048];
	unsigned int n = 0, i, lo, hi, mid;
	char line[512], type, name[256], mod[64];
	bool all = getenv("HMAP_FUZZ_COVER") && *getenv("HMAP_FUZZ_COVER");
	unsigned long long a;
	uint64_t off;
	size_t o = 0;
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	while (f && n < 2048 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s [%63[^]]]", &a, &type, name, mod) != 4 ||
		    strcmp(mod, "hmap") || (type != 't' && type != 'T') ||
		    a < shm->text_lo || a >= shm->text_lo + shm->text_len)
			continue;
		sym[n].addr = a;
		sym[n].pcs = 0;
		copy_str(sym[n].name, sizeof(sym[n].name), name);
		n++;
	}
	if (f)
		fclose(f);
	if (!n)
		return;
	qsort(sym, n, sizeof(sym[0]), cmp_sym);
	for (off = 0; off < shm->text_len; off++) {
		if (!(shm->pcs[off / 8] & (1 << (off % 8))))
			continue;
		for (lo = 0, hi = n; hi - lo > 1; ) {
			mid = (lo + hi) / 2;
			if (sym[mid].addr <= shm->text_lo + off)
				lo = mid;
			else
				hi = mid;
		}
		sym[lo].pcs++;
	}
	for (i = 0; i < n; i++) {
		if (all) {
			ksft_print_msg("cover: %s %u\n", sym[i].name, sym[i].pcs);
			continue;
		}
		if (sym[i].pcs)
			continue;
		if (o > 60) {
			ksft_print_msg("functions never reached: %s\n", line);
			o = 0;
		}
		o += snprintf(line + o, sizeof(line) - o, "%s%s", o ? " " : "", sym[i].name);
	}
	if (o)
		ksft_print_msg("functions never reached: %s\n", line);
}

static void print_stats(double secs)
{
	unsigned int i, p, e;

	ksft_print_msg("results per command (calls with its own number), then per pseudo-call:\n");
	for (i = 0; i < FZ_NOPS; i++) {
		uint64_t r[FZ_ERRNOS] = { 0 };
		double t = 0;
		char line[512];
		size_t o = 0;

		for (p = 0; p < shm->nprocs; p++) {
			t += shm->secs[p][i];
			for (e = 0; e < FZ_ERRNOS; e++)
				r[e] += shm->results[p][i][e];
		}
		o += snprintf(line, sizeof(line), "%-24s %6.1f s, ok %" PRIu64,
			      i < FZ_NCMDS ? fz_cmds[i].name + strlen("HMAP_IOC_") :
			      pseudo_names[i - FZ_NCMDS], t, r[0]);
		for (e = 1; e < FZ_ERRNOS && o < sizeof(line); e++)
			if (r[e])
				o += snprintf(line + o, sizeof(line) - o, ", %s %" PRIu64,
					      errname(-(long)e), r[e]);
		ksft_print_msg("  %s\n", line);
	}
	ksft_print_msg("executions: %" PRIu64 " ioctls in %" PRIu64 " programs, %u executor%s, %.0f s, %.0f execs/s\n",
		       shm->execs, shm->progs, shm->nprocs, shm->nprocs > 1 ? "s" : "",
		       secs, secs > 0 ? shm->execs / secs : 0);
	if (shm->kcov) {
		if (shm->seeds)
			ksft_print_msg("corpus: %u programs (%u of them kept from the %u of %s)\n",
				       shm->corpus_n, shm->seeds_kept, shm->seeds,
				       getenv("HMAP_FUZZ_CORPUS"));
		else
			ksft_print_msg("corpus: %u programs\n", shm->corpus_n);
		ksft_print_msg("hmap.ko edges covered: %u (%u distinct PCs in %" PRIu64 " bytes of .text)\n",
			       shm->nedges, shm->npcs, shm->text_len);
		print_coverage();
	} else {
		ksft_print_msg("corpus: none (unguided: %s)\n",
			       shm->kcov_note[0] ? shm->kcov_note : "no KCOV");
		ksft_print_msg("hmap.ko edges covered: unknown (no KCOV)\n");
	}
}

#define FZ_REPORT_LINES	60

/* The kernel's report lines from @fd: the first splat line and what follows. */
static unsigned int collect_kmsg(int fd, char lines[][200])
{
	unsigned int n = 0;
	char text[1024];

	while (fd >= 0 && kmsg_next(fd, text, sizeof(text))) {
		if (!n && regexec(&splat_rx, text, 0, NULL, 0))
			continue;
		/* Stale stack words and opcode bytes tell a reader nothing. */
		if (!strncmp(text, " ? ", 3) || !strncmp(text, "Code: ", 6))
			continue;
		if (n < FZ_REPORT_LINES)
			copy_str(lines[n++], 200, text);
	}
	return n;
}

/* Whether a report names @pid: "hmap_fuzz/PID", "PID: PID" or "pid: PID". */
static bool report_names(char lines[][200], unsigned int n, pid_t pid)
{
	char a[32], b[32], c[32];
	unsigned int i;

	snprintf(a, sizeof(a), "/%d ", pid);
	snprintf(b, sizeof(b), "PID: %d ", pid);
	snprintf(c, sizeof(c), "pid: %d,", pid);
	for (i = 0; i < n; i++)
		if (strstr(lines[i], a) || strstr(lines[i], b) || strstr(lines[i], c))
			return true;
	return false;
}

static int fuzz(unsigned int nprocs)
{
	static char lines[FZ_REPORT_LINES][200];
	unsigned long long old_bytes, old_watch, old_watches, old_poo = 0;
	bool failed = false, have_poo, died, hung = false, legend = false;
	double start, last_print, last_progress[FZ_PROCS_MAX];
	uint64_t seen[FZ_PROCS_MAX] = { 0 };
	int status[FZ_PROCS_MAX] = { 0 }, kfd;
	bool alive[FZ_PROCS_MAX] = { false }, named = false;
	unsigned int i, live = 0, nlines;

	shm->nprocs = nprocs;
	if (!access(KCOV_PATH, R_OK | W_OK)) {
		if (text_range(&shm->text_lo, &shm->text_len))
			snprintf(shm->kcov_note, sizeof(shm->kcov_note),
				 "hmap.ko's .text not found in /sys/module and /proc/kallsyms");
		else
			shm->kcov = 1;
	} else {
		snprintf(shm->kcov_note, sizeof(shm->kcov_note), "no %s: kernel without CONFIG_KCOV", KCOV_PATH);
	}

	/* Keep what a program may allocate small; restored afterwards. */
	old_bytes = read_num(PARAM_DIR "max_bytes");
	write_num(PARAM_DIR "max_bytes", FZ_MAX_BYTES);
	old_watch = read_num(PARAM_DIR "max_watch_bytes_per_user");
	write_num(PARAM_DIR "max_watch_bytes_per_user", FZ_MAX_WATCH_BYTES);
	old_watches = read_num(PARAM_DIR "max_watches_per_map");
	write_num(PARAM_DIR "max_watches_per_map", FZ_MAX_WATCHES);
	/* An oops should kill an executor, not the kernel: see the top. */
	have_poo = !access("/proc/sys/kernel/panic_on_oops", W_OK);
	if (have_poo) {
		old_poo = read_num("/proc/sys/kernel/panic_on_oops");
		write_num("/proc/sys/kernel/panic_on_oops", 0);
	}
	kfd = kmsg_open();

	ksft_print_msg("seed %#" PRIx64 ", budget %.0f s%s, %u executor%s, max_bytes %llu while fuzzing\n",
		       seed, budget_secs, budget_execs ? " or the execution limit" : "",
		       nprocs, nprocs > 1 ? "s" : "", FZ_MAX_BYTES);
	fflush(stdout);
	start = last_print = now();
	for (i = 0; i < nprocs; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			ksft_print_msg("fork: %s\n", strerror(errno));
			shm->stop = 1;
			failed = true;
			break;
		}
		if (!pids[i]) {
			me = i;
			_exit(executor());
		}
		alive[i] = true;
		live++;
		last_progress[i] = start;
	}
	if (shm->kcov)
		ksft_print_msg("mode: coverage-guided (KCOV), hmap.ko .text %#" PRIx64 " + %" PRIu64 "\n",
			       shm->text_lo, shm->text_len);

	while (live) {
		double t;

		poll(NULL, 0, 200);
		t = now();
		for (i = 0; i < nprocs; i++) {
			if (!alive[i])
				continue;
			if (waitpid(pids[i], &status[i], WNOHANG) == pids[i]) {
				alive[i] = false;
				live--;
				/* One executor down: the others have nothing to add. */
				if (!WIFEXITED(status[i]) || WEXITSTATUS(status[i]))
					shm->stop = 1;
				continue;
			}
			if (shm->pexecs[i] != seen[i]) {
				seen[i] = shm->pexecs[i];
				last_progress[i] = t;
			} else if (t - last_progress[i] > FZ_HANG_SECS && !hung) {
				ksft_print_msg("executor %u made no progress for %d s: a hung ioctl\n",
					       i, FZ_HANG_SECS);
				hung = failed = true;
				print_legend();
				legend = true;
				print_executor(i, "hung");
				shm->stop = 1;
			}
		}
		if (hung && !shm->splat) {
			/* Wait a little for the others, then give up on all. */
			for (i = 0; i < nprocs; i++)
				if (alive[i])
					kill(pids[i], SIGKILL);
			poll(NULL, 0, 5000);
			for (i = 0; i < nprocs; i++)
				if (alive[i] && waitpid(pids[i], &status[i], WNOHANG) == pids[i]) {
					alive[i] = false;
					live--;
				}
			break;
		}
		if (t - last_print >= 15) {
			last_print = t;
			ksft_print_msg("%.0f s: %" PRIu64 " execs, %.0f/s, corpus %u, edges %u\n",
				       t - start, shm->execs, shm->execs / (t - start),
				       shm->corpus_n, shm->nedges);
		}
	}

	/* Unkillable executors are stuck in the kernel: it is not usable. */
	died = live || kernel_died();
	if (!died)
		sweep_names();
	/* Late reports: frees after a grace period, workers. */
	if (!died)
		usleep(300 * 1000);
	nlines = collect_kmsg(kfd, lines);
	if (nlines) {
		ksft_print_msg("kernel report while fuzzing:\n");
		for (i = 0; i < nlines; i++)
			ksft_print_msg("  kmsg: %s\n", lines[i]);
		failed = true;
	}
	for (i = 0; i < nprocs; i++) {
		if (!pids[i] || alive[i])
			continue;
		if (WIFSIGNALED(status[i]) && !hung) {
			ksft_print_msg("executor %u killed by signal %d%s\n", i, WTERMSIG(status[i]),
				       kernel_died() ? " (an oops)" : "");
			failed = true;
			if (!legend)
				print_legend();
			legend = true;
			print_executor(i, "killed");
			named = true;
		} else if (WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 2) {
			ksft_print_msg("executor %u could not start\n", i);
			failed = true;
		}
	}
	if (nlines && !named) {
		/* The report names the task that caused it, when it ran in one. */
		for (i = 0; i < nprocs; i++)
			named |= report_names(lines, nlines, pids[i]);
		if (!legend)
			print_legend();
		for (i = 0; i < nprocs; i++)
			if (!named || report_names(lines, nlines, pids[i]))
				print_executor(i, named ? "the task the report names:" :
					       "no task named in the report:");
	}
	if (shm->failed_check) {
		i = shm->failed_check - 1;
		ksft_print_msg("check failed in executor %u: %s\n", i, shm->check_line);
		failed = true;
		if (!legend)
			print_legend();
		legend = true;
		print_executor(i, "failed check:");
	}
	if (!died) {
		write_num(PARAM_DIR "max_bytes", old_bytes);
		if (old_watch)
			write_num(PARAM_DIR "max_watch_bytes_per_user", old_watch);
		if (old_watches)
			write_num(PARAM_DIR "max_watches_per_map", old_watches);
	}
	if (have_poo)
		write_num("/proc/sys/kernel/panic_on_oops", old_poo);
	print_stats(now() - start);
	/* For scripts/fuzz.sh to keep, and give back as HMAP_FUZZ_CORPUS. */
	if (getenv("HMAP_FUZZ_SAVE") && *getenv("HMAP_FUZZ_SAVE"))
		for (i = 0; i < shm->corpus_n; i++)
			print_hex(&shm->corpus[i], "corpus-entry ");
	if (failed)
		ksft_test_result_fail("hmap_fuzz: %" PRIu64 " executions: %s\n", shm->execs,
				      hung ? "a hung ioctl" : nlines ? "a kernel report" :
				      shm->failed_check ? "a failed check" : "an executor died");
	else
		ksft_test_result_pass("hmap_fuzz: %" PRIu64 " executions%s, no kernel report\n",
				      shm->execs, shm->kcov ? "" : " (unguided, no KCOV)");
	ksft_print_cnts();
	fflush(stdout);
	if (died && old_poo) {
		/*
		 * The kernel oopsed or a task is stuck in it: locks may be held
		 * forever. oops=panic would have stopped the VM at the oops;
		 * stop it now that the reproducer is out.
		 */
		ksft_print_msg("the kernel oopsed or hung: powering off, as oops=panic would have\n");
		fflush(stdout);
		sync();
		reboot(RB_POWER_OFF);
	}
	return failed ? KSFT_FAIL : KSFT_PASS;
}

/* ---- replay and extraction ---- */

static int replay(const char *hex)
{
	struct fz_ring_slot *r = &rings[0];
	struct fz_exec x;
	unsigned int last;
	char text[512];
	int ret = 0;

	if (parse_hex(hex, &r->prog)) {
		fprintf(stderr, "hmap_fuzz: cannot parse the program\n");
		return 2;
	}
	exec_setup_fds();
	if (dev_fd < 0 || arena_init()) {
		fprintf(stderr, "hmap_fuzz: /dev/hmap: %s\n", strerror(errno));
		return 2;
	}
	kmsg_fd = kmsg_open();
	exec_reset(&x);
	print_legend();
	print_prog(&r->prog, NULL, -1);
	fflush(stdout);
	run_prog(&x, r, &last);
	ksft_print_msg("ran it:\n");
	print_prog(&r->prog, r->ret, -1);
	usleep(200 * 1000);
	while (kmsg_fd >= 0 && kmsg_next(kmsg_fd, text, sizeof(text)))
		if (ret || !regexec(&splat_rx, text, 0, NULL, 0)) {
			ksft_print_msg("kmsg: %s\n", text);
			ret = 1;
		}
	if (shm->failed_check) {
		ksft_print_msg("check failed: %s\n", shm->check_line);
		ret = 1;
	}
	return ret;
}

/* Finds ring slots in a dump of guest memory and prints the newest. */
static int extract(const char *path)
{
	static struct fz_ring_slot *found[4096];
	struct fz_ring_slot *mine[FZ_RING * FZ_PROCS_MAX];
	unsigned int n = 0, i, k, p;
	uint64_t nonce;
	struct stat st;
	uint8_t *m;
	size_t off;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "hmap_fuzz: %s: %s\n", path, strerror(errno));
		return 2;
	}
	m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return 2;
	for (off = 0; off + sizeof(struct fz_ring_slot) <= (size_t)st.st_size && n < 4096; off += PAGE) {
		struct fz_ring_slot *r = (struct fz_ring_slot *)(m + off);

		if (memcmp(r->magic, FZ_RING_MAGIC, 16) || !r->seq ||
		    r->prog.ncalls < 1 || r->prog.ncalls > FZ_MAX_CALLS)
			continue;
		found[n++] = r;
	}
	if (!n) {
		ksft_print_msg("no hmap_fuzz program found in %s\n", path);
		return 1;
	}
	qsort(found, n, sizeof(found[0]), cmp_seq);
	/* The newest run only: a dump may hold pages of an earlier one. */
	nonce = found[n - 1]->nonce;
	print_legend();
	/* A slot with a call running is in some executor: print each such. */
	for (i = 0, p = 0; i < n; i++) {
		if (found[i]->nonce != nonce || found[i]->cur == -1)
			continue;
		mine[0] = found[i];
		print_slots(mine, 1, "from the memory dump, in flight");
		p++;
	}
	if (!p) {
		for (i = 0, k = 0; i < n && k < FZ_RING * FZ_PROCS_MAX; i++)
			if (found[i]->nonce == nonce)
				mine[k++] = found[i];
		print_slots(mine, k, "from the memory dump, none in flight; newest");
	}
	return 0;
}

static double env_num(const char *name, double def)
{
	const char *v = getenv(name);

	return v && *v ? strtod(v, NULL) : def;
}

int main(int argc, char **argv)
{
	size_t shm_size = (sizeof(struct fz_shm) + PAGE - 1) & ~(PAGE - 1);
	size_t ring_size = FZ_PROCS_MAX * FZ_RING * sizeof(*rings);
	bool kcov = !access(KCOV_PATH, F_OK);
	unsigned int nprocs, i;
	const char *s;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (regcomp(&splat_rx, splat_re, REG_EXTENDED | REG_NOSUB))
		return 2;
	if (argc == 3 && !strcmp(argv[1], "--extract"))
		return extract(argv[2]);
	rings = mmap(NULL, ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	shm = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rings == MAP_FAILED || shm == MAP_FAILED)
		return 2;
	/* Resident and marked, so that a dump of guest memory shows them. */
	memset(rings, 0, ring_size);
	mlock(rings, ring_size);
	for (i = 0; i < FZ_PROCS_MAX * FZ_RING; i++) {
		memcpy(rings[i].magic, FZ_RING_MAGIC, sizeof(rings[i].magic));
		rings[i].cur = -1;
	}
	if (argc == 3 && !strcmp(argv[1], "--replay"))
		return replay(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: hmap_fuzz [--replay HEX | --extract MEMDUMP]\n"
			"  env: HMAP_FUZZ_SECONDS, HMAP_FUZZ_EXECS, HMAP_FUZZ_SEED, HMAP_FUZZ_PROCS\n");
		return 2;
	}

	budget_secs = env_num("HMAP_FUZZ_SECONDS", kcov ? 75 : 20);
	budget_execs = env_num("HMAP_FUZZ_EXECS", 0);
	nprocs = env_num("HMAP_FUZZ_PROCS", 1);
	if (nprocs < 1 || nprocs > FZ_PROCS_MAX)
		nprocs = 1;
	s = getenv("HMAP_FUZZ_SEED");
	seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^ getpid();
	if (!seed)
		seed = 1;

	ksft_print_header();
	ksft_set_plan(1);
	if (access("/dev/hmap", R_OK | W_OK)) {
		ksft_test_result_skip("hmap_fuzz: /dev/hmap not accessible\n");
		ksft_finished();
	}
	if (geteuid()) {
		ksft_test_result_skip("hmap_fuzz: needs root (module parameters, kmsg, kcov)\n");
		ksft_finished();
	}
	return fuzz(nprocs);
}
