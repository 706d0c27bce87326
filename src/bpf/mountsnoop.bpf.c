// SPDX-License-Identifier: GPL-2.0
/*
 * mountsnoop's kernel side: syscall tracepoints only (no kprobes).
 *
 * Entry: filter, then keep the raw arguments and the user memory they
 * point to (read now, as the kernel is about to copy it) in `pending`,
 * keyed by tid. Exit: take them back, read what the entry could not
 * (a page not yet faulted in; marked as read at exit), and send one
 * complete event with only the bytes it uses.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "mountsnoop.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load; 0 / false means "no filter". */
const volatile __u32 filter_pid = 0;
const volatile __u32 filter_tid = 0;
const volatile bool filter_uid_on = false;
const volatile __u32 filter_uid = 0;
const volatile bool filter_comm_on = false;
const volatile char filter_comm[TASK_COMM_LEN] = {};
const volatile __u64 filter_mnt_ns = 0;
const volatile bool filter_cgroup_on = false;
/* bcc's --cgroupmap and --mntnsmap: the caller must be a key of the map. */
const volatile bool filter_cgroupset_on = false;
const volatile bool filter_mount_ns_set_on = false;
const volatile bool failed_only = false;
/* -y: resolve every fd argument, and every fd a call returns. */
const volatile bool want_fd_paths = false;
/* Resolve the directory each relative path argument starts from. */
const volatile bool want_abs_paths = false;
/* Read the caller's cgroup paths. */
const volatile bool want_cgroup = false;
/* Read the parent's pid and comm only for outputs that show them. */
const volatile bool want_parent = true;
/*
 * The calls (bit `enum call_id`) the raw programs take, from the 32-bit
 * table; the per-call programs take only the calls whose tracepoints user
 * space attached them to.
 */
const volatile __u32 compat_calls = 0;
/* The same for 64-bit calls, when the raw programs take them too. */
const volatile __u32 native_calls = 0;

/*
 * Set by user space once it has listed the threads that were inside a
 * traced call when tracing began: until then an exit without an entry
 * is not taken as a refused call.
 */
bool armed = false;
/* Entries the in-flight map had no room for: their exits have none. */
__u64 entries_dropped = 0;

/* An event under construction: header, then argument data. */
/*
 * Room for a full-length read starting anywhere below EVENT_DATA_MAX, and
 * after that, room for a read whose bytes are thrown away (PROBE_AREA).
 */
#define PROBE_ROOM STR_READ_MAX
#define DATA_ROOM (EVENT_DATA_MAX + STR_READ_MAX + PROBE_ROOM)
#define PROBE_AREA (EVENT_DATA_MAX + STR_READ_MAX)

struct event_buf {
	struct event_header hdr;
	__u8 data[DATA_ROOM];
};

/*
 * An entry under construction. Its start is laid out as a pending_call,
 * so the map `pending` takes it as it is (the inline part of its data).
 */
struct entry_buf {
	struct pending_head h;
	__u8 data[DATA_ROOM];
};

_Static_assert(__builtin_offsetof(struct entry_buf, data) ==
		       __builtin_offsetof(struct pending_call, data),
	       "an entry_buf starts as a pending_call");

/*
 * Export the shared types to BTF, where the skeleton generator finds them
 * for Rust: an unused variable of each is enough.
 */
struct event_header _event_header_for_btf = {};
enum call_id _call_id_for_btf = CALL_MOUNT;
enum arg_state _arg_state_for_btf = ARG_RAW;
enum read_kind _read_kind_for_btf = READ_NONE;
enum abi _abi_for_btf = ABI_NATIVE;
enum origin _origin_for_btf = ORIGIN_CALL;
enum stat_id _stat_id_for_btf = STAT_ARGS_MAP_FULL;
enum name_slot _name_slot_for_btf = NAME_ARG0;
enum name_state _name_state_for_btf = NAME_NONE;
struct ns_event _ns_event_for_btf = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct pending_call);
} pending SEC(".maps");

/* Same bound as `pending`, but an entry costs memory only while in use. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct pending_data);
} pending_big SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* user space sets one per possible CPU */
	__type(key, __u32);
	__type(value, struct event_buf);
} scratch SEC(".maps");

/* Threads that were inside a traced call when tracing began. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} entered_before SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* user space sets one per possible CPU */
	__type(key, __u32);
	__type(value, struct entry_buf);
} entry_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

/*
 * bcc's container filters: pinned maps that another program keeps, which
 * user space gives these in place of their own before load (bcc's names,
 * key and value types). The keys are what is traced; the values are not
 * read. An unused one is cut to one entry.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);   /* cgroup v2 id, as bpf_get_current_cgroup_id() */
	__type(value, __u64);
} cgroupset SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);   /* mount namespace inode number */
	__type(value, __u32);
} mount_ns_set SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/*
 * Events with an argument the kernel side could not read at all: user
 * space reads it from the process as soon as it can, so this buffer wakes
 * it for every event (such calls are rare: refused before any copy).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} urgent_events SEC(".maps");

/*
 * This CPU's slot of a scratch buffer. Plain arrays with a slot per CPU,
 * not per-CPU arrays: a per-CPU value cannot exceed 32 KiB.
 */
static __always_inline void *this_cpu(void *map)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(map, &cpu);
}

static __always_inline void stat_inc(__u32 id)
{
	__u64 *count = bpf_map_lookup_elem(&stats, &id);

	if (count)
		*count += 1;
}

static __always_inline __u64 current_mnt_ns(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
}

static __always_inline bool comm_matches(void)
{
	char comm[TASK_COMM_LEN];

	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < TASK_COMM_LEN; i++) {
		if (comm[i] != filter_comm[i])
			return false;
		if (comm[i] == 0)
			break;
	}
	return true;
}

/*
 * Filters that depend on who calls, checked before anything is stored.
 * (--syscall needs no check here: other calls' programs are not loaded.)
 */
static __always_inline bool caller_wanted(__u64 pid_tgid)
{
	if (filter_pid && (__u32)(pid_tgid >> 32) != filter_pid)
		return false;
	if (filter_tid && (__u32)pid_tgid != filter_tid)
		return false;
	if (filter_uid_on && (__u32)bpf_get_current_uid_gid() != filter_uid)
		return false;
	if (filter_comm_on && !comm_matches())
		return false;
	if (filter_mnt_ns && current_mnt_ns() != filter_mnt_ns)
		return false;
	if (filter_cgroup_on && bpf_current_task_under_cgroup(&cgroup_filter, 0) != 1)
		return false;
	/* Looked up on every call: the map's keeper may change it any time. */
	if (filter_cgroupset_on) {
		__u64 id = bpf_get_current_cgroup_id();

		if (!bpf_map_lookup_elem(&cgroupset, &id))
			return false;
	}
	if (filter_mount_ns_set_on) {
		__u64 ns = current_mnt_ns();

		if (!bpf_map_lookup_elem(&mount_ns_set, &ns))
			return false;
	}
	return true;
}


/* fsconfig command numbers (uapi/linux/mount.h). */
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_SET_BINARY 2
#define FSCONFIG_SET_PATH 3
#define FSCONFIG_SET_PATH_EMPTY 4
/* Size of struct mount_attr as first published (MOUNT_ATTR_SIZE_VER0). */
#define MOUNT_ATTR_SIZE_VER0 32

/* How a string argument is printed, which decides how far it is read. */
enum str_kind {
	STR_PATH,   /* strace's printpath: PATH_MAX at most */
	STR_STRING, /* strace's printstr: as far as its -s 8192 */
};

/*
 * Read the C string argument `i` points to into data[off..]; record it
 * in `ad`. Returns the new data length.
 */
static __always_inline __u32 add_string(__u8 *data, struct arg_data *ad, const __u64 *args,
					 __u32 off, int i, enum str_kind kind)
{
	const char *ptr = (const char *)args[i];
	__u8 *dst = &data[off & (EVENT_DATA_MAX - 1)];
	long n;

	ad->kind[i] = kind == STR_PATH ? READ_PATH : READ_STRING;
	if (!ptr) {
		ad->state[i] = ARG_NULL;
		return off;
	}
	n = bpf_probe_read_user_str(dst, STR_READ_MAX, ptr);
	/*
	 * A path with no NUL before an unreadable page: the kernel, and
	 * strace, take PATH_MAX bytes and find no end (strace prints the
	 * first 4095 and "...").
	 */
	if (n < 0 && kind == STR_PATH && bpf_probe_read_user_str(dst, PATH_READ_MAX, ptr) ==
						 PATH_READ_MAX) {
		ad->state[i] = ARG_TRUNCATED;
		ad->off[i] = off;
		ad->len[i] = PATH_READ_MAX - 1;
		return off + PATH_READ_MAX - 1;
	}
	if (n < 0) {
		ad->state[i] = ARG_UNREADABLE;
		ad->len[i] = kind == STR_PATH ? PATH_READ_MAX : STR_READ_MAX;
		return off;
	}
	/*
	 * A string strace reads up to 8193 bytes of: with no NUL in its
	 * first 4096 and none before an unreadable page after them, strace's
	 * read fails and it prints the address.
	 */
	if (n == STR_READ_MAX && kind == STR_STRING &&
	    bpf_probe_read_user_str(&data[PROBE_AREA], STR_READ_MAX, ptr + STR_READ_MAX - 1) < 0) {
		ad->state[i] = ARG_UNTERMINATED;
		return off;
	}
	/*
	 * The count includes the NUL, but for an empty string some kernels
	 * (Debian's 6.1 and 6.12) return 0 where newer ones return 1: "".
	 */
	if (n > 0)
		n -= 1;
	ad->state[i] = n == STR_READ_MAX - 1 ? ARG_TRUNCATED : ARG_DATA;
	ad->off[i] = off;
	ad->len[i] = n;
	return off + n;
}

/* Append `len` bytes of the binary argument `i` points to. */
static __always_inline __u32 add_blob(__u8 *data, struct arg_data *ad, const __u64 *args,
				       __u32 off, int i, __u64 len)
{
	const void *ptr = (const void *)args[i];
	__u32 n = len > BLOB_READ_MAX ? BLOB_READ_MAX : len;

	if (!ptr) {
		ad->state[i] = ARG_NULL;
		return off;
	}
	if (bpf_probe_read_user(&data[off & (EVENT_DATA_MAX - 1)], n & (BLOB_READ_MAX * 2 - 1),
				ptr)) {
		ad->state[i] = ARG_UNREADABLE;
		ad->len[i] = n;
		return off;
	}
	ad->state[i] = n < len ? ARG_TRUNCATED : ARG_DATA;
	ad->off[i] = off;
	ad->len[i] = n;
	return off + n;
}

/*
 * mount_setattr's and open_tree_attr's struct (argument 3, of argument
 * 4's size), read up to a page, as strace shows a larger struct's extra
 * bytes; when that much cannot be read, its first 32 bytes still can be.
 */
static __always_inline __u32 add_mount_attr(__u8 *data, struct arg_data *ad, const __u64 *args,
					     __u32 off)
{
	__u64 size = args[4];

	if (size < MOUNT_ATTR_SIZE_VER0)
		return off;
	ad->kind[3] = READ_MOUNT_ATTR;
	off = add_blob(data, ad, args, off, 3, size);
	if (ad->state[3] == ARG_UNREADABLE && size > MOUNT_ATTR_SIZE_VER0) {
		off = add_blob(data, ad, args, off, 3, MOUNT_ATTR_SIZE_VER0);
		/* What user space should try again is the whole struct. */
		if (ad->state[3] == ARG_UNREADABLE)
			ad->len[3] = size > BLOB_READ_MAX ? BLOB_READ_MAX : size;
	}
	return off;
}

#define WANT(i) (mask & (1 << (i)))

/*
 * Read the user memory that the arguments in `mask` of `call` point to,
 * appending at data[off..]. Returns the new data length. One place says
 * which argument of which call is a path, a string or a struct, for the
 * entry's reads and for the exit's second try alike.
 */
static __always_inline __u32 read_args(__u8 *data, struct arg_data *ad, const __u64 *args,
				       __u32 call, __u32 off, __u8 mask)
{
	__u32 cmd;

	switch (call) {
	case CALL_MOUNT:
		if (WANT(0))
			off = add_string(data, ad, args, off, 0, STR_PATH);
		if (WANT(1))
			off = add_string(data, ad, args, off, 1, STR_PATH);
		if (WANT(2))
			off = add_string(data, ad, args, off, 2, STR_STRING);
		if (WANT(4))
			off = add_string(data, ad, args, off, 4, STR_STRING);
		break;
	case CALL_UMOUNT2:
	case CALL_UMOUNT:
		if (WANT(0))
			off = add_string(data, ad, args, off, 0, STR_PATH);
		break;
	case CALL_FSOPEN:
		if (WANT(0))
			off = add_string(data, ad, args, off, 0, STR_STRING);
		break;
	case CALL_OPEN_TREE:
	case CALL_FSPICK:
		if (WANT(1))
			off = add_string(data, ad, args, off, 1, STR_PATH);
		break;
	case CALL_MOVE_MOUNT:
		if (WANT(1))
			off = add_string(data, ad, args, off, 1, STR_PATH);
		if (WANT(3))
			off = add_string(data, ad, args, off, 3, STR_PATH);
		break;
	case CALL_PIVOT_ROOT:
		if (WANT(0))
			off = add_string(data, ad, args, off, 0, STR_PATH);
		if (WANT(1))
			off = add_string(data, ad, args, off, 1, STR_PATH);
		break;
	case CALL_FSCONFIG:
		/* What `value` is depends on cmd, a C int. */
		cmd = args[1];
		if (WANT(2))
			off = add_string(data, ad, args, off, 2, STR_STRING);
		if (!WANT(3))
			break;
		if (cmd == FSCONFIG_SET_STRING)
			off = add_string(data, ad, args, off, 3, STR_STRING);
		else if (cmd == FSCONFIG_SET_PATH || cmd == FSCONFIG_SET_PATH_EMPTY)
			off = add_string(data, ad, args, off, 3, STR_PATH);
		else if (cmd == FSCONFIG_SET_BINARY) {
			/* aux is a C int: the upper half of the register is not part of it. */
			ad->kind[3] = READ_BLOB;
			off = add_blob(data, ad, args, off, 3, (__u32)args[4]);
		}
		break;
	case CALL_MOUNT_SETATTR:
	case CALL_OPEN_TREE_ATTR:
		if (WANT(1))
			off = add_string(data, ad, args, off, 1, STR_PATH);
		if (WANT(3))
			off = add_mount_attr(data, ad, args, off);
		break;
	}
	return off;
}

/*
 * read_args() into this CPU's entry buffer, or into its event buffer.
 * Global functions: the verifier checks each once per program, however
 * many paths reach it (inlined, the reads multiplied the paths to check,
 * and loading took seconds).
 */
__noinline int read_entry_args(__u32 call, __u32 off, __u32 mask)
{
	struct entry_buf *b = this_cpu(&entry_scratch);

	if (!b)
		return off;
	return read_args(b->data, &b->h.ad, b->h.args, call, off, mask);
}

__noinline int read_event_args(__u32 call, __u32 off, __u32 mask)
{
	struct event_buf *e = this_cpu(&scratch);

	if (!e)
		return off;
	return read_args(e->data, &e->hdr.ad, e->hdr.args, call, off, mask);
}

/* ---- paths resolved in the kernel, at the time of the call ---- */

#define AT_FDCWD -100
/* In a path's `base`: not a path argument; a path relative to the cwd. */
#define BASE_NONE 0xff
#define BASE_CWD 0xfe

/* fsconfig commands whose aux is an fd, and whose value is a path. */
#define FSCONFIG_SET_FD 5

struct kernfs_node___parent {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

struct kernfs_node___dunder_parent {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

/* kernfs_node.parent was renamed __parent in Linux 6.15. */
static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(struct kernfs_node___dunder_parent, __parent))
		return BPF_CORE_READ((struct kernfs_node___dunder_parent *)kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___parent *)kn, parent);
}

static __always_inline struct mount *real_mount(struct vfsmount *vm)
{
	return (struct mount *)((void *)vm - bpf_core_field_offset(struct mount, mnt));
}

/*
 * The data area and name slots of this CPU's entry buffer (`in_event`
 * 0), as a call starts, or of its event buffer (1), as it returns.
 */
struct name_target {
	__u8 *data;
	struct names *names;
	__u64 *args;
	struct arg_data *ad;
};

static __always_inline bool name_target(__u32 in_event, struct name_target *t)
{
	struct event_buf *e;
	struct entry_buf *b;

	if (in_event) {
		e = this_cpu(&scratch);
		if (!e)
			return false;
		t->data = e->data;
		t->names = &e->hdr.names;
		t->args = e->hdr.args;
		t->ad = &e->hdr.ad;
	} else {
		b = this_cpu(&entry_scratch);
		if (!b)
			return false;
		t->data = b->data;
		t->names = &b->h.names;
		t->args = b->h.args;
		t->ad = &b->h.ad;
	}
	return true;
}

/* Records what slot `slot` holds; the bound is checked where it is used. */
static __always_inline void set_name(struct names *n, __u32 slot, __u8 state, __u32 off,
				     __u32 len)
{
	barrier_var(slot);
	if (slot >= NAME_SLOTS)
		return;
	n->state[slot] = state;
	n->off[slot] = off;
	n->len[slot] = len;
}

static __always_inline void mark_deleted(struct names *n, __u32 slot)
{
	barrier_var(slot);
	if (slot < NAME_SLOTS)
		n->flags[slot] |= NAME_DELETED;
}

/*
 * How far names may fill the data: an entry's must fit the in-flight
 * map's large value, an event's the event.
 */
static __always_inline __u32 data_limit(__u32 in_event)
{
	return in_event ? EVENT_DATA_MAX : ENTRY_DATA_MAX;
}

/*
 * Appends the path of (dentry, vfsmount) at data[off..] as its components,
 * the last first, walking up through the mounts to the root of the
 * mount namespace, as the kernel's d_path does for a reader there; records
 * it in `slot`. Returns the new data length. Global: verified once.
 */
__noinline int put_path(__u32 in_event, __u32 slot, __u64 dentry_p, __u64 vfsmnt_p, __u32 off)
{
	__u32 limit = data_limit(in_event);
	struct dentry *d = (struct dentry *)dentry_p;
	struct vfsmount *vm = (struct vfsmount *)vfsmnt_p;
	struct mount *m = real_mount(vm);
	struct name_target t;
	__u8 state = NAME_PATH_CUT;
	__u32 start = off;

	if (!name_target(in_event, &t) || slot >= NAME_SLOTS || !d || !vm)
		return off;
	for (int i = 0; i < NAME_WALK_MAX; i++) {
		struct dentry *up;
		long n;

		if (d == BPF_CORE_READ(vm, mnt_root)) {
			struct mount *parent = BPF_CORE_READ(m, mnt_parent);

			if (parent == m) {
				state = NAME_PATH;
				break;
			}
			d = BPF_CORE_READ(m, mnt_mountpoint);
			m = parent;
			vm = (struct vfsmount *)((void *)m + bpf_core_field_offset(struct mount, mnt));
			continue;
		}
		up = BPF_CORE_READ(d, d_parent);
		/* The root of a filesystem mounted elsewhere, or not at all. */
		if (up == d) {
			state = NAME_PATH;
			break;
		}
		if (off - start + NAME_COMPONENT_MAX > PATH_READ_MAX ||
		    off + NAME_COMPONENT_MAX > limit)
			break;
		n = bpf_probe_read_kernel_str(&t.data[off & (EVENT_DATA_MAX - 1)],
					      NAME_COMPONENT_MAX, BPF_CORE_READ(d, d_name.name));
		if (n <= 0)
			break;
		off += n;
		d = up;
	}
	set_name(t.names, slot, state, start, off - start);
	return off;
}

/*
 * Appends what the open file `file_p` is, as /proc/PID/fd shows it: a
 * path, or for a file with a made-up name (its dentry has d_dname) what
 * user space needs to make that name.
 */
__noinline int put_file(__u32 in_event, __u32 slot, __u64 file_p, __u32 off)
{
	__u32 limit = data_limit(in_event);
	struct file *f = (struct file *)file_p;
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	const struct dentry_operations *ops = BPF_CORE_READ(d, d_op);
	struct name_target t;
	__u64 fixed[2];
	long n;

	if (!name_target(in_event, &t) || slot >= NAME_SLOTS)
		return off;
	if (!ops || !BPF_CORE_READ(ops, d_dname)) {
		off = put_path(in_event, slot, (__u64)d, (__u64)BPF_CORE_READ(f, f_path.mnt), off);
		/* d_unlinked(): unhashed, and not a root. */
		if (!BPF_CORE_READ(d, d_hash.pprev) && BPF_CORE_READ(d, d_parent) != d)
			mark_deleted(t.names, slot);
		return off;
	}
	if (off + sizeof(fixed) + NAME_COMPONENT_MAX > limit)
		return off;
	fixed[0] = BPF_CORE_READ(d, d_sb, s_magic);
	fixed[1] = BPF_CORE_READ(d, d_inode, i_ino);
	bpf_probe_read_kernel(&t.data[off & (EVENT_DATA_MAX - 1)], sizeof(fixed), fixed);
	n = bpf_probe_read_kernel_str(&t.data[(off + sizeof(fixed)) & (EVENT_DATA_MAX - 1)],
				      NAME_COMPONENT_MAX, BPF_CORE_READ(d, d_name.name));
	if (n < 1)
		n = 1;
	set_name(t.names, slot, NAME_PSEUDO, off, sizeof(fixed) + n - 1);
	return off + sizeof(fixed) + n - 1;
}

/* The file open as `fd` in the current task, or NULL. */
static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline __u32 put_fd(__u32 in_event, __u32 slot, int fd, __u32 off)
{
	struct file *f = fd_file(fd);
	struct name_target t;

	if (f)
		return put_file(in_event, slot, (__u64)f, off);
	if (name_target(in_event, &t))
		set_name(t.names, slot, NAME_NOT_OPEN, 0, 0);
	return off;
}

/*
 * Which arguments of `call` are fds (`fds`), which are directory fds
 * (`dirfds`), and for each path argument, the argument holding the fd it
 * is relative to (`base`: BASE_CWD when it has none, BASE_NONE when the
 * argument is not a path). One place for both -y and absolute paths.
 */
static __always_inline void call_fds(__u32 call, const __u64 *args, __u8 *fds, __u8 *dirfds,
				      __u8 *base)
{
	__u32 cmd;

	switch (call) {
	case CALL_MOUNT:
	case CALL_PIVOT_ROOT:
		base[0] = BASE_CWD;
		base[1] = BASE_CWD;
		break;
	case CALL_UMOUNT2:
	case CALL_UMOUNT:
		base[0] = BASE_CWD;
		break;
	case CALL_FSCONFIG:
		*fds = 1 << 0;
		cmd = args[1];
		if (cmd == FSCONFIG_SET_FD)
			*fds |= 1 << 4;
		if (cmd == FSCONFIG_SET_PATH || cmd == FSCONFIG_SET_PATH_EMPTY) {
			*dirfds = 1 << 4;
			base[3] = 4;
		}
		break;
	case CALL_FSMOUNT:
		*fds = 1 << 0;
		break;
	case CALL_MOVE_MOUNT:
		*dirfds = (1 << 0) | (1 << 2);
		base[1] = 0;
		base[3] = 2;
		break;
	case CALL_OPEN_TREE:
	case CALL_FSPICK:
	case CALL_MOUNT_SETATTR:
	case CALL_OPEN_TREE_ATTR:
		*dirfds = 1 << 0;
		base[1] = 0;
		break;
	}
}

/* The caller's root is its namespace's: the top mount's root, seen from it. */
static __always_inline bool root_is_namespace_root(struct task_struct *task)
{
	struct vfsmount *vm = BPF_CORE_READ(task, fs, root.mnt);
	struct mount *m = real_mount(vm);
	struct mount *parent = BPF_CORE_READ(m, mnt_parent);

	if (BPF_CORE_READ(task, fs, root.dentry) != BPF_CORE_READ(vm, mnt_root))
		return false;
	/* The namespace's root mount, or the one on top of it (rootfs below /). */
	return parent == m || BPF_CORE_READ(parent, mnt_parent) == parent;
}

/*
 * Resolves, into the name slots, the fds (-y) and the directories that
 * the call's relative paths start from, and the caller's root where it is
 * not its namespace's. Global: verified once per program.
 */
__noinline int put_names(__u32 in_event, __u32 call, __u32 off)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u8 base[SYSCALL_ARGS] = { BASE_NONE, BASE_NONE, BASE_NONE,
				    BASE_NONE, BASE_NONE, BASE_NONE };
	__u8 fds = 0, dirfds = 0, want = 0;
	bool cwd = false, root = false;
	struct name_target t;

	if (!name_target(in_event, &t))
		return off;
	call_fds(call, t.args, &fds, &dirfds, base);
	if (want_fd_paths)
		want = fds | dirfds;
	if (want_abs_paths) {
		for (int p = 0; p < SYSCALL_ARGS; p++) {
			__u8 state = t.ad->state[p];
			__u8 b = base[p];
			bool absolute = (state == ARG_DATA || state == ARG_TRUNCATED) &&
					t.ad->len[p] > 0 &&
					t.data[t.ad->off[p] & (EVENT_DATA_MAX - 1)] == '/';

			if (b == BASE_NONE)
				continue;
			if (absolute)
				root = true;
			else if (b == BASE_CWD)
				cwd = true;
			else if (b < SYSCALL_ARGS)
				want |= 1 << b;
		}
	}
	for (int i = 0; i < SYSCALL_ARGS; i++) {
		if (!(want & (1 << i)))
			continue;
		if ((dirfds & (1 << i)) && (int)t.args[i] == AT_FDCWD)
			cwd = true;
		else
			off = put_fd(in_event, NAME_ARG0 + i, (int)t.args[i], off);
	}
	if (cwd)
		off = put_path(in_event, NAME_CWD, (__u64)BPF_CORE_READ(task, fs, pwd.dentry),
			       (__u64)BPF_CORE_READ(task, fs, pwd.mnt), off);
	if (root && !root_is_namespace_root(task))
		off = put_path(in_event, NAME_ROOT, (__u64)BPF_CORE_READ(task, fs, root.dentry),
			       (__u64)BPF_CORE_READ(task, fs, root.mnt), off);
	return off;
}

/* The calls that return a new fd. */
static __always_inline bool returns_fd(__u32 call)
{
	return call == CALL_FSOPEN || call == CALL_FSMOUNT || call == CALL_OPEN_TREE ||
	       call == CALL_FSPICK || call == CALL_OPEN_TREE_ATTR;
}

/* Appends a cgroup's path (kernfs names up to the hierarchy's root). */
__noinline int put_cgroup(__u32 slot, __u64 kn_p, __u32 off)
{
	struct kernfs_node *kn = (struct kernfs_node *)kn_p;
	struct name_target t;
	__u8 state = NAME_PATH_CUT;
	__u32 start = off;

	if (!name_target(1, &t) || slot >= NAME_SLOTS || !kn)
		return off;
	for (int i = 0; i < NAME_WALK_MAX; i++) {
		struct kernfs_node *up = kn_parent(kn);
		long n;

		if (!up) {
			state = NAME_PATH;
			break;
		}
		if (off - start + NAME_COMPONENT_MAX > PATH_READ_MAX ||
		    off + NAME_COMPONENT_MAX > EVENT_DATA_MAX)
			break;
		n = bpf_probe_read_kernel_str(&t.data[off & (EVENT_DATA_MAX - 1)],
					      NAME_COMPONENT_MAX, BPF_CORE_READ(kn, name));
		if (n <= 0)
			break;
		off += n;
		kn = up;
	}
	set_name(t.names, slot, state, start, off - start);
	return off;
}

/*
 * The caller's cgroup v2 path and, when its pids controller is on a v1
 * hierarchy (a hybrid host, where a runtime may place a container in v1
 * only), that cgroup's path too.
 */
static __always_inline __u32 put_cgroups(__u32 off)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct css_set *cs = BPF_CORE_READ(task, cgroups);
	struct cgroup *dfl = BPF_CORE_READ(cs, dfl_cgrp);
	struct cgroup_subsys_state *css = NULL;
	struct cgroup *v1;
	int id;

	off = put_cgroup(NAME_CGROUP, (__u64)BPF_CORE_READ(dfl, kn), off);
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, pids_cgrp_id))
		return off;
	id = bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
	bpf_probe_read_kernel(&css, sizeof(css),
			      (void *)cs + bpf_core_field_offset(struct css_set, subsys) +
				      (id & 31) * sizeof(css));
	v1 = BPF_CORE_READ(css, cgroup);
	if (!v1 || BPF_CORE_READ(v1, root) == BPF_CORE_READ(dfl, root))
		return off;
	return put_cgroup(NAME_CGROUP_V1, (__u64)BPF_CORE_READ(v1, kn), off);
}

static __always_inline void clear_names(struct names *n)
{
	for (int i = 0; i < NAME_SLOTS; i++) {
		n->off[i] = 0;
		n->len[i] = 0;
		n->state[i] = NAME_NONE;
		n->flags[i] = 0;
	}
}

static __always_inline void clear_arg_data(struct arg_data *ad)
{
	for (int i = 0; i < SYSCALL_ARGS; i++) {
		ad->len[i] = 0;
		ad->off[i] = 0;
		ad->state[i] = ARG_RAW;
		ad->kind[i] = READ_NONE;
	}
}

/*
 * The data read is not at hand after all: every argument that was read
 * (or tried) is to be read again at exit.
 */
static __always_inline void forget_data(struct arg_data *ad)
{
	for (int i = 0; i < SYSCALL_ARGS; i++) {
		if (ad->state[i] >= ARG_DATA) {
			ad->state[i] = ARG_UNREADABLE;
			ad->len[i] = 0;
			ad->off[i] = 0;
		}
	}
}

/*
 * A call starts: keep its arguments, and read what they point to now, as
 * the kernel is about to copy it (a thread that rewrites the memory while
 * the call blocks cannot change what we print).
 */
static __always_inline int on_enter(const __u64 *args, __u32 call, __u8 abi, bool names)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct entry_buf *b;
	__u32 len;

	if (!caller_wanted(pid_tgid))
		return 0;
	b = this_cpu(&entry_scratch);
	if (!b)
		return 0;
	b->h.start_ns = bpf_ktime_get_ns();
	b->h.call = call;
	b->h.abi = abi;
	for (int i = 0; i < SYSCALL_ARGS; i++)
		b->h.args[i] = args[i];
	clear_arg_data(&b->h.ad);
	len = read_entry_args(call, 0, 0x3f);
	/* Without names wanted the slots stay as the map made them: zero. */
	if (names && (want_fd_paths || want_abs_paths)) {
		clear_names(&b->h.names);
		b->h.names_lost = 0;
		len = put_names(0, call, len);
	}
	b->h.data_len = len;
	b->h.big = len > PENDING_INLINE_MAX;
	/*
	 * No room for the large data: forget it, and let the exit read the
	 * arguments (marked as read then).
	 */
	if (b->h.big && bpf_map_update_elem(&pending_big, &tid, b->data, BPF_ANY)) {
		stat_inc(STAT_BIG_ARGS_READ_LATE);
		b->h.big = 0;
		b->h.data_len = 0;
		forget_data(&b->h.ad);
		if (names && (want_fd_paths || want_abs_paths)) {
			clear_names(&b->h.names);
			b->h.names_lost = 1;
		}
	}
	/* BPF_ANY: a stale entry of this tid (its exit was missed) is replaced. */
	if (bpf_map_update_elem(&pending, &tid, (struct pending_call *)b, BPF_ANY)) {
		stat_inc(STAT_ARGS_MAP_FULL);
		__sync_fetch_and_add(&entries_dropped, 1);
		if (b->h.big)
			bpf_map_delete_elem(&pending_big, &tid);
	}
	return 0;
}

/* The arguments the entry could not read, as a mask. */
static __always_inline __u8 unread_mask(const struct arg_data *ad)
{
	__u8 mask = 0;

	for (int i = 0; i < SYSCALL_ARGS; i++)
		if (ad->state[i] == ARG_UNREADABLE)
			mask |= 1 << i;
	return mask;
}

/* The arguments whose bytes are in the data, as a mask. */
static __always_inline __u8 data_mask(const struct arg_data *ad)
{
	__u8 mask = 0;

	for (int i = 0; i < SYSCALL_ARGS; i++)
		if (ad->state[i] == ARG_DATA || ad->state[i] == ARG_TRUNCATED)
			mask |= 1 << i;
	return mask;
}

static __always_inline int submit(void *ctx, struct event_buf *e, __u32 data_len)
{
	__u64 size = sizeof(e->hdr) + data_len;
	long err;

	if (size > sizeof(e->hdr) + EVENT_DATA_MAX)
		size = sizeof(e->hdr) + EVENT_DATA_MAX;
	e->hdr.data_len = data_len;
	if (unread_mask(&e->hdr.ad))
		err = bpf_perf_event_output(ctx, &urgent_events, BPF_F_CURRENT_CPU, e, size);
	else
		err = bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, e, size);
	/*
	 * Counted here, not taken from the kernel's PERF_RECORD_LOST: that
	 * record is only written with the next event that fits, so losses at
	 * the end of a burst would never be reported.
	 */
	if (err == -28 /* ENOSPC */)
		stat_inc(STAT_BUFFER_FULL);
	else if (err)
		stat_inc(STAT_OUTPUT_FAILED);
	return 0;
}

/* Who made the call: the fields every event has. */
static __always_inline void fill_caller(struct event_buf *e, __u64 pid_tgid, __u32 call, long ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	e->hdr.ret = ret;
	e->hdr.call = call;
	e->hdr.pid = pid_tgid >> 32;
	e->hdr.tid = (__u32)pid_tgid;
	e->hdr.uid = (__u32)bpf_get_current_uid_gid();
	e->hdr.mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	bpf_get_current_comm(e->hdr.comm, sizeof(e->hdr.comm));
	if (want_parent) {
		e->hdr.ppid = BPF_CORE_READ(task, real_parent, tgid);
		BPF_CORE_READ_STR_INTO(&e->hdr.pcomm, task, real_parent, comm);
	} else {
		e->hdr.ppid = 0;
		e->hdr.pcomm[0] = 0;
	}
}

/* ---- what only an architecture knows ---- */

#define SIGSYS_BIT (1UL << (31 - 1)) /* SIGSYS is 31 on x86 and arm64 */
#define SECCOMP_MODE_FILTER 2
#define SECCOMP_MODE_DEAD 3 /* set by a KILL verdict (Linux 5.17) */

/* The new mount API has the same numbers in every table we trace. */
static __always_inline __u32 new_api_call(long nr)
{
	switch (nr) {
	case 428: return CALL_OPEN_TREE;
	case 429: return CALL_MOVE_MOUNT;
	case 430: return CALL_FSOPEN;
	case 431: return CALL_FSCONFIG;
	case 432: return CALL_FSMOUNT;
	case 433: return CALL_FSPICK;
	case 442: return CALL_MOUNT_SETATTR;
	case 467: return CALL_OPEN_TREE_ATTR;
	}
	return CALL_COUNT;
}

#if defined(__TARGET_ARCH_x86)
/* The i386 numbers of the calls we trace; CALL_COUNT for any other. */
static __always_inline __u32 compat_call(long nr)
{
	switch (nr) {
	case 21: return CALL_MOUNT;
	case 22: return CALL_UMOUNT;
	case 52: return CALL_UMOUNT2;
	case 217: return CALL_PIVOT_ROOT;
	}
	return new_api_call(nr);
}

/* The x86_64 numbers of the calls we trace; CALL_COUNT for any other. */
static __always_inline __u32 native_call(long nr)
{
	switch (nr) {
	case 165: return CALL_MOUNT;
	case 166: return CALL_UMOUNT2;
	case 155: return CALL_PIVOT_ROOT;
	}
	return new_api_call(nr);
}

/* in_ia32_syscall(): TS_COMPAT in thread_info.status. */
static __always_inline bool in_compat_syscall(struct task_struct *task)
{
	return BPF_CORE_READ(task, thread_info.status) & 0x0002;
}

/* The i386 calling convention: ebx, ecx, edx, esi, edi, ebp. */
static __always_inline void compat_args(struct pt_regs *regs, __u64 *args)
{
	args[0] = (__u32)BPF_CORE_READ(regs, bx);
	args[1] = (__u32)BPF_CORE_READ(regs, cx);
	args[2] = (__u32)BPF_CORE_READ(regs, dx);
	args[3] = (__u32)BPF_CORE_READ(regs, si);
	args[4] = (__u32)BPF_CORE_READ(regs, di);
	args[5] = (__u32)BPF_CORE_READ(regs, bp);
}

static __always_inline long syscall_nr(struct pt_regs *regs)
{
	return (int)BPF_CORE_READ(regs, orig_ax);
}
#elif defined(__TARGET_ARCH_arm64)
/* The 32-bit ARM (EABI) numbers; it has no one-argument umount. */
static __always_inline __u32 compat_call(long nr)
{
	switch (nr) {
	case 21: return CALL_MOUNT;
	case 52: return CALL_UMOUNT2;
	case 218: return CALL_PIVOT_ROOT;
	}
	return new_api_call(nr);
}

/* The aarch64 numbers of the calls we trace; CALL_COUNT for any other. */
static __always_inline __u32 native_call(long nr)
{
	switch (nr) {
	case 40: return CALL_MOUNT;
	case 39: return CALL_UMOUNT2;
	case 41: return CALL_PIVOT_ROOT;
	}
	return new_api_call(nr);
}

/* is_compat_task(): TIF_32BIT (22) in thread_info.flags. */
static __always_inline bool in_compat_syscall(struct task_struct *task)
{
	return BPF_CORE_READ(task, thread_info.flags) & (1UL << 22);
}

/* r0-r5; r0 is overwritten by the result, orig_x0 keeps it. */
static __always_inline void compat_args(struct pt_regs *regs, __u64 *args)
{
	args[0] = (__u32)BPF_CORE_READ(regs, orig_x0);
	args[1] = (__u32)BPF_CORE_READ(regs, regs[1]);
	args[2] = (__u32)BPF_CORE_READ(regs, regs[2]);
	args[3] = (__u32)BPF_CORE_READ(regs, regs[3]);
	args[4] = (__u32)BPF_CORE_READ(regs, regs[4]);
	args[5] = (__u32)BPF_CORE_READ(regs, regs[5]);
}

static __always_inline long syscall_nr(struct pt_regs *regs)
{
	return (int)BPF_CORE_READ(regs, syscallno);
}
#else
#error "mountsnoop's BPF program knows x86 and arm64 only (set __TARGET_ARCH_*)"
#endif

/* The native calling convention, by libbpf's CO-RE macros. */
static __always_inline void native_args(struct pt_regs *regs, __u64 *args)
{
	args[0] = PT_REGS_PARM1_CORE_SYSCALL(regs);
	args[1] = PT_REGS_PARM2_CORE_SYSCALL(regs);
	args[2] = PT_REGS_PARM3_CORE_SYSCALL(regs);
	args[3] = PT_REGS_PARM4_CORE_SYSCALL(regs);
	args[4] = PT_REGS_PARM5_CORE_SYSCALL(regs);
	args[5] = 0;
}

/*
 * Why a call returned without having entered, from what seccomp leaves
 * behind: a KILL verdict marks the task dead; TRAP rolls the result back
 * to the call's number and queues SIGSYS; ERRNO and a supervisor's answer
 * leave the task in filter mode, and only a supervisor needs a listener.
 * Without a filter there is no evidence of seccomp at all.
 */
static __always_inline __u8 seccomp_origin(struct task_struct *task, struct pt_regs *regs,
					    long ret)
{
	struct seccomp_filter *f;
	int mode = BPF_CORE_READ(task, seccomp.mode);

	if (mode == SECCOMP_MODE_DEAD)
		return ORIGIN_SECCOMP_KILL;
	if (mode != SECCOMP_MODE_FILTER)
		return ORIGIN_ENTRY_NOT_SEEN;
	if ((BPF_CORE_READ(task, pending.signal.sig[0]) & SIGSYS_BIT) && ret == syscall_nr(regs))
		return ORIGIN_SECCOMP_TRAP;
	/* An entry may have been dropped: no claim then. */
	if (entries_dropped)
		return ORIGIN_ENTRY_NOT_SEEN;
	f = BPF_CORE_READ(task, seccomp.filter);
	for (int i = 0; i < 8 && f; i++) {
		if (BPF_CORE_READ(f, notif))
			return ORIGIN_SECCOMP_USER_NOTIF;
		f = BPF_CORE_READ(f, prev);
	}
	return ORIGIN_SECCOMP_ERRNO;
}

/*
 * Reads again, as the call returns, each argument in `mask` that the entry
 * read, appending at data[off..]; user space compares the two. Global:
 * verified once per program.
 */
__noinline int reread_args(__u32 off, __u32 mask)
{
	struct event_buf *e = this_cpu(&scratch);

	if (!e)
		return off;
	for (int i = 0; i < SYSCALL_ARGS; i++) {
		const void *ptr = (const void *)e->hdr.args[i];
		__u8 *dst = &e->data[off & (EVENT_DATA_MAX - 1)];
		__u8 kind = e->hdr.ad.kind[i];
		__u64 len = e->hdr.ad.len[i];
		long n;

		if (!(mask & (1 << i)))
			continue;
		e->hdr.again_off[i] = off;
		if (kind == READ_PATH || kind == READ_STRING) {
			n = bpf_probe_read_user_str(dst, STR_READ_MAX, ptr);
			if (n > 0)
				n -= 1;
		} else {
			/* The entry's length: a blob or a struct, at most a page. */
			barrier_var(len);
			len &= 2 * BLOB_READ_MAX - 1;
			n = bpf_probe_read_user(dst, len, ptr) ? -1 : (long)len;
		}
		if (n < 0) {
			e->hdr.again_len[i] = AGAIN_UNREADABLE;
			continue;
		}
		e->hdr.again_len[i] = n;
		off += n;
	}
	return off;
}

/*
 * What is resolved as the call returns: the names the entry could not
 * keep (`again`), the fd the call returned (-y), the caller's cgroups.
 */
static __always_inline __u32 exit_names(struct event_buf *e, __u32 call, long ret, bool again,
					 __u32 len)
{
	if (again && (want_fd_paths || want_abs_paths)) {
		clear_names(&e->hdr.names);
		e->hdr.names_at_exit = 1;
		len = put_names(1, call, len);
	}
	if (want_fd_paths && ret >= 0 && returns_fd(call))
		len = put_fd(1, NAME_RET, ret, len);
	if (want_cgroup)
		len = put_cgroups(len);
	return len;
}

/*
 * An exit with no entry: seccomp refused the call (or a supervisor
 * answered it) before the entry tracepoint, or the call was already
 * running when tracing began. The arguments are in the registers saved
 * at entry; what they point to is read now, and marked so.
 */
static __always_inline int on_exit_unentered(void *ctx, __u32 call, long ret, __u8 abi,
					      struct pt_regs *regs, bool names)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct task_struct *task;
	struct event_buf *e;
	__u8 origin;
	__u32 len;

	if (!caller_wanted(pid_tgid))
		return 0;
	/* A native call's registers: the task's (Linux 5.15). */
	if (!regs) {
		if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs)) {
			stat_inc(STAT_EXIT_ONLY_LOST);
			return 0;
		}
		regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	}
	task = (struct task_struct *)bpf_get_current_task();
	if (!armed || bpf_map_lookup_elem(&entered_before, &tid)) {
		bpf_map_delete_elem(&entered_before, &tid);
		origin = ORIGIN_ENTRY_NOT_SEEN;
	} else {
		origin = seccomp_origin(task, regs, ret);
	}
	/* A TRAP or KILL result is the call's number: a failure all the same. */
	if (failed_only && ret >= 0 && origin != ORIGIN_SECCOMP_TRAP && origin != ORIGIN_SECCOMP_KILL)
		return 0;
	e = this_cpu(&scratch);
	if (!e)
		return 0;
	if (abi == ABI_COMPAT)
		compat_args(regs, e->hdr.args);
	else
		native_args(regs, e->hdr.args);
	/* The start is not known: the exit stands for it. */
	e->hdr.start_ns = bpf_ktime_get_ns();
	e->hdr.latency_ns = 0;
	clear_arg_data(&e->hdr.ad);
	len = read_event_args(call, 0, 0x3f);
	e->hdr.read_at_exit = data_mask(&e->hdr.ad);
	e->hdr.read_after_call = 0;
	e->hdr.abi = abi;
	e->hdr.origin = origin;
	e->hdr.reread = 0;
	if (names && (want_fd_paths || want_abs_paths || want_cgroup)) {
		clear_names(&e->hdr.names);
		e->hdr.names_at_exit = 0;
		len = exit_names(e, call, ret, true, len);
	}
	fill_caller(e, pid_tgid, call, ret);
	return submit(ctx, e, len);
}

/*
 * A call returns: take back its entry and send one complete event. What
 * the entry could not read (a page the process had not touched yet) is
 * read now, and marked as read at exit. `regs` are the call's registers
 * where the hook has them (NULL: found when needed).
 */
static __always_inline int on_exit(void *ctx, __u32 call, long ret, __u8 abi,
				   struct pt_regs *regs, bool names)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct pending_call *p;
	struct pending_data *big;
	struct event_buf *e;
	bool names_lost;
	__u32 len;
	__u8 late;

	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return on_exit_unentered(ctx, call, ret, abi, regs, names);
	e = this_cpu(&scratch);
	if (!e || p->h.call != call || (failed_only && ret >= 0)) {
		if (p->h.big)
			bpf_map_delete_elem(&pending_big, &tid);
		bpf_map_delete_elem(&pending, &tid);
		return 0;
	}

	e->hdr.start_ns = p->h.start_ns;
	e->hdr.latency_ns = bpf_ktime_get_ns() - p->h.start_ns;
	for (int i = 0; i < SYSCALL_ARGS; i++)
		e->hdr.args[i] = p->h.args[i];
	e->hdr.ad = p->h.ad;
	names_lost = false;
	if (names && (want_fd_paths || want_abs_paths || want_cgroup)) {
		e->hdr.names = p->h.names;
		e->hdr.names_at_exit = 0;
		names_lost = p->h.names_lost;
	}
	e->hdr.abi = p->h.abi;
	e->hdr.origin = ORIGIN_CALL;
	len = p->h.data_len;
	if (p->h.big) {
		big = bpf_map_lookup_elem(&pending_big, &tid);
		if (len > ENTRY_DATA_MAX)
			len = ENTRY_DATA_MAX;
		if (!big || bpf_probe_read_kernel(e->data, len, big->data)) {
			len = 0;
			forget_data(&e->hdr.ad);
		}
		bpf_map_delete_elem(&pending_big, &tid);
	} else {
		if (len > PENDING_INLINE_MAX)
			len = PENDING_INLINE_MAX;
		bpf_probe_read_kernel(e->data, len, p->data);
	}
	bpf_map_delete_elem(&pending, &tid);

	e->hdr.reread = data_mask(&e->hdr.ad);
	len = reread_args(len, e->hdr.reread);
	late = unread_mask(&e->hdr.ad);
	if (late)
		len = read_event_args(call, len, late);
	/* Only those that the second try could read were read at exit. */
	e->hdr.read_at_exit = late & ~unread_mask(&e->hdr.ad);
	e->hdr.read_after_call = 0;
	if (names && (want_fd_paths || want_abs_paths || want_cgroup))
		len = exit_names(e, call, ret, names_lost, len);
	fill_caller(e, pid_tgid, call, ret);
	return submit(ctx, e, len);
}

/*
 * The 64-bit calls: one program for every entry and one for every exit,
 * attached by user space to each traced call's tracepoints (a program per
 * call took the verifier twelve times as long). The call is known from
 * the syscall number.
 */
static __always_inline int enter_native(struct trace_event_raw_sys_enter *ctx, bool names)
{
	/* The record's id is an int in a long: its upper half is not part of it. */
	__u32 call = native_call((int)ctx->id);
	__u64 args[SYSCALL_ARGS] = {};

	if (call == CALL_COUNT)
		return 0;
	/*
	 * Copied, not loaded: a program that loads past the end of a record
	 * cannot be attached to a call with fewer arguments, and a copy is
	 * not checked for that. What lies past a call's own arguments is
	 * never printed.
	 */
	bpf_probe_read_kernel(args, sizeof(args), ctx->args);
	return on_enter(args, call, ABI_NATIVE, names);
}

static __always_inline int exit_native(struct trace_event_raw_sys_exit *ctx, bool names)
{
	/* As at entry; on x86_64 its upper half is set after a failure. */
	__u32 call = native_call((int)ctx->id);

	if (call == CALL_COUNT)
		return 0;
	return on_exit(ctx, call, ctx->ret, ABI_NATIVE, NULL, names);
}

/*
 * Every call, 64-bit and 32-bit, from the raw tracepoints. The per-call
 * tracepoints skip 32-bit calls (the kernel's
 * ARCH_TRACE_IGNORE_COMPAT_SYSCALLS); the raw ones see every system call,
 * so these programs run for every call on the host and leave at once
 * unless its number is one of ours in either table. They replace the
 * per-call programs (user space loads one set or the other), so a call
 * pays one hook, not two.
 */
static __always_inline __u32 raw_call(long nr, __u8 *abi)
{
	__u32 native = native_call(nr);
	__u32 compat = compat_call(nr);

	/* Every other system call on the host leaves here, at once. */
	if (native == CALL_COUNT && compat == CALL_COUNT)
		return CALL_COUNT;
	if (in_compat_syscall((struct task_struct *)bpf_get_current_task())) {
		*abi = ABI_COMPAT;
		return compat != CALL_COUNT && (compat_calls & (1 << compat)) ? compat : CALL_COUNT;
	}
	*abi = ABI_NATIVE;
	return native != CALL_COUNT && (native_calls & (1 << native)) ? native : CALL_COUNT;
}

static __always_inline int any_enter(struct pt_regs *regs, long nr, bool names)
{
	__u64 args[SYSCALL_ARGS];
	__u8 abi = ABI_NATIVE;
	__u32 call = raw_call(nr, &abi);

	if (call == CALL_COUNT)
		return 0;
	if (abi == ABI_COMPAT)
		compat_args(regs, args);
	else
		native_args(regs, args);
	return on_enter(args, call, abi, names);
}

static __always_inline int any_exit(void *ctx, struct pt_regs *regs, long nr, long ret,
				    bool names)
{
	__u8 abi = ABI_NATIVE;
	__u32 call = raw_call(nr, &abi);

	if (call == CALL_COUNT)
		return 0;
	return on_exit(ctx, call, ret, abi, regs, names);
}

/*
 * Each hook's programs come in two builds: without the names (fds, paths,
 * cgroups resolved in the kernel) and with them. User space loads the
 * build its flags need, so that the plain one neither carries nor makes
 * the verifier check the path walks.
 */
#if defined(__TARGET_ARCH_x86)
#define EXIT_NR(regs) ((int)(regs)->orig_ax)
#else
#define EXIT_NR(regs) ((int)(regs)->syscallno)
#endif

#define HOOK_PROGRAMS(suffix, names)                                                   \
	SEC("tracepoint")                                                             \
	int enter_call##suffix(struct trace_event_raw_sys_enter *ctx)                 \
	{                                                                             \
		return enter_native(ctx, names);                                      \
	}                                                                             \
	SEC("tracepoint")                                                             \
	int exit_call##suffix(struct trace_event_raw_sys_exit *ctx)                   \
	{                                                                             \
		return exit_native(ctx, names);                                       \
	}                                                                             \
	SEC("raw_tp/sys_enter")                                                       \
	int raw_enter##suffix(struct bpf_raw_tracepoint_args *ctx)                    \
	{                                                                             \
		return any_enter((struct pt_regs *)ctx->args[0], ctx->args[1], names); \
	}                                                                             \
	SEC("raw_tp/sys_exit")                                                        \
	int raw_exit##suffix(struct bpf_raw_tracepoint_args *ctx)                     \
	{                                                                             \
		struct pt_regs *regs = (struct pt_regs *)ctx->args[0];                \
                                                                                      \
		return any_exit(ctx, regs, syscall_nr(regs), ctx->args[1], names);    \
	}                                                                             \
	SEC("tp_btf/sys_enter")                                                       \
	int BPF_PROG(btf_enter##suffix, struct pt_regs *regs, long nr)                \
	{                                                                             \
		return any_enter(regs, nr, names);                                    \
	}                                                                             \
	SEC("tp_btf/sys_exit")                                                        \
	int BPF_PROG(btf_exit##suffix, struct pt_regs *regs, long ret)                \
	{                                                                             \
		return any_exit(ctx, regs, EXIT_NR(regs), ret, names);                \
	}

HOOK_PROGRAMS(, false)
HOOK_PROGRAMS(_names, true)

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384); /* user space sizes it from --max-namespaces */
	__type(key, __u64);
	__type(value, __u8);
} ns_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} ns_events SEC(".maps");

static __always_inline int ns_maybe_new(void *ctx, long ret)
{
	struct ns_event e = {};
	__u64 id = bpf_get_current_pid_tgid();
	__u8 one = 1;

	/* A failed call changed nothing; clone's parent stays where it was
	 * (the child reports its own return, with 0). */
	if (ret != 0)
		return 0;
	e.mnt_ns = current_mnt_ns();
	if (bpf_map_lookup_elem(&ns_seen, &e.mnt_ns))
		return 0;
	if (bpf_map_update_elem(&ns_seen, &e.mnt_ns, &one, BPF_NOEXIST))
		return 0;
	e.pid = id >> 32;
	e.tid = (__u32)id;
	bpf_perf_event_output(ctx, &ns_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_unshare")
int ns_unshare(struct trace_event_raw_sys_exit *ctx)
{
	return ns_maybe_new(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_setns")
int ns_setns(struct trace_event_raw_sys_exit *ctx)
{
	return ns_maybe_new(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_clone")
int ns_clone(struct trace_event_raw_sys_exit *ctx)
{
	return ns_maybe_new(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_clone3")
int ns_clone3(struct trace_event_raw_sys_exit *ctx)
{
	return ns_maybe_new(ctx, ctx->ret);
}
