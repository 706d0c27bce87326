// SPDX-License-Identifier: GPL-2.0
/*
 * mountsnoop's kernel side: syscall tracepoints only (no kprobes).
 *
 * Entry: filter, then keep the raw arguments in `pending`, keyed by tid.
 * Exit: take them back, read the user memory the arguments point to (the
 * kernel has faulted it in by now), and send one complete event with only
 * the bytes it uses.
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
const volatile bool failed_only = false;
/* Read the parent's pid and comm only for outputs that show them. */
const volatile bool want_parent = true;

/* An event under construction: header, then argument data. */
struct event_buf {
	struct event_header hdr;
	/* Room for a full-length read starting anywhere below EVENT_DATA_MAX. */
	__u8 data[EVENT_DATA_MAX + STR_READ_MAX];
};

/*
 * Export the shared types to BTF, where the skeleton generator finds them
 * for Rust: an unused variable of each is enough.
 */
struct event_header _event_header_for_btf = {};
enum call_id _call_id_for_btf = CALL_MOUNT;
enum arg_state _arg_state_for_btf = ARG_RAW;
enum stat_id _stat_id_for_btf = STAT_ARGS_MAP_FULL;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct pending_call);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event_buf);
} scratch SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

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
	return true;
}

/*
 * `nargs` must be the call's own argument count: the kernel refuses to
 * attach a program that reads past the end of its tracepoint's record.
 */
static __always_inline int on_enter(struct trace_event_raw_sys_enter *ctx, __u32 call, int nargs)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct pending_call p = {};

	if (!caller_wanted(pid_tgid))
		return 0;
	p.start_ns = bpf_ktime_get_ns();
	p.call = call;
	/* Unrolled by hand: the verifier refuses a moving ctx pointer. */
	p.args[0] = ctx->args[0];
	p.args[1] = ctx->args[1];
	if (nargs > 2)
		p.args[2] = ctx->args[2];
	if (nargs > 3)
		p.args[3] = ctx->args[3];
	if (nargs > 4)
		p.args[4] = ctx->args[4];
	/* BPF_ANY: a stale entry of this tid (its exit was missed) is replaced. */
	if (bpf_map_update_elem(&pending, &tid, &p, BPF_ANY))
		stat_inc(STAT_ARGS_MAP_FULL);
	return 0;
}

/*
 * Take back this thread's entry and fill the fixed part of its event.
 * Returns NULL when there is nothing to send.
 */
static __always_inline struct event_buf *begin_event(struct trace_event_raw_sys_exit *ctx,
						     __u32 call)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	__u32 zero = 0;
	struct pending_call *p;
	struct event_buf *e;
	struct task_struct *task;
	long ret = ctx->ret;

	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return NULL;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e || p->call != call || (failed_only && ret >= 0)) {
		bpf_map_delete_elem(&pending, &tid);
		return NULL;
	}

	e->hdr.start_ns = p->start_ns;
	e->hdr.latency_ns = bpf_ktime_get_ns() - p->start_ns;
	for (int i = 0; i < SYSCALL_ARGS; i++) {
		e->hdr.args[i] = p->args[i];
		e->hdr.arg_len[i] = 0;
		e->hdr.arg_state[i] = ARG_RAW;
	}
	bpf_map_delete_elem(&pending, &tid);

	task = (struct task_struct *)bpf_get_current_task();
	e->hdr.ret = ret;
	e->hdr.call = call;
	e->hdr.pid = pid_tgid >> 32;
	e->hdr.tid = tid;
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
	return e;
}

/* Append the C string argument `i` points to; returns the new data length. */
static __always_inline __u32 add_string(struct event_buf *e, __u32 off, int i)
{
	const void *ptr = (const void *)e->hdr.args[i];
	long n;

	if (!ptr) {
		e->hdr.arg_state[i] = ARG_NULL;
		return off;
	}
	n = bpf_probe_read_user_str(&e->data[off & (EVENT_DATA_MAX - 1)], STR_READ_MAX, ptr);
	if (n <= 0) {
		e->hdr.arg_state[i] = ARG_UNREADABLE;
		return off;
	}
	n -= 1; /* the NUL */
	e->hdr.arg_state[i] = n == STR_READ_MAX - 1 ? ARG_TRUNCATED : ARG_DATA;
	e->hdr.arg_len[i] = n;
	return off + n;
}

/* Append `len` bytes of binary data argument `i` points to. */
static __always_inline __u32 add_blob(struct event_buf *e, __u32 off, int i, __u64 len)
{
	const void *ptr = (const void *)e->hdr.args[i];
	__u32 n = len > BLOB_READ_MAX ? BLOB_READ_MAX : len;

	if (!ptr) {
		e->hdr.arg_state[i] = ARG_NULL;
		return off;
	}
	if (bpf_probe_read_user(&e->data[off & (EVENT_DATA_MAX - 1)], n & (BLOB_READ_MAX * 2 - 1),
				ptr)) {
		e->hdr.arg_state[i] = ARG_UNREADABLE;
		return off;
	}
	e->hdr.arg_state[i] = n < len ? ARG_TRUNCATED : ARG_DATA;
	e->hdr.arg_len[i] = n;
	return off + n;
}

static __always_inline int submit(struct trace_event_raw_sys_exit *ctx, struct event_buf *e,
				  __u32 data_len)
{
	__u64 size = sizeof(e->hdr) + data_len;
	long err;

	if (size > sizeof(*e))
		size = sizeof(*e);
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

#define ENTER(tp, call, nargs)                                                           \
	SEC("tracepoint/syscalls/sys_enter_" #tp)                                         \
	int enter_##tp(struct trace_event_raw_sys_enter *ctx)                             \
	{                                                                                  \
		return on_enter(ctx, call, nargs);                                        \
	}

ENTER(mount, CALL_MOUNT, 5)
ENTER(umount, CALL_UMOUNT2, 2)
ENTER(fsopen, CALL_FSOPEN, 2)
ENTER(fsconfig, CALL_FSCONFIG, 5)
ENTER(fsmount, CALL_FSMOUNT, 3)
ENTER(move_mount, CALL_MOVE_MOUNT, 5)
ENTER(open_tree, CALL_OPEN_TREE, 3)
ENTER(mount_setattr, CALL_MOUNT_SETATTR, 5)
ENTER(fspick, CALL_FSPICK, 3)
ENTER(pivot_root, CALL_PIVOT_ROOT, 2)
ENTER(open_tree_attr, CALL_OPEN_TREE_ATTR, 5)

/* mount(source, target, fstype, flags, data) */
SEC("tracepoint/syscalls/sys_exit_mount")
int exit_mount(struct trace_event_raw_sys_exit *ctx)
{
	struct event_buf *e = begin_event(ctx, CALL_MOUNT);
	__u32 off = 0;

	if (!e)
		return 0;
	off = add_string(e, off, 0);
	off = add_string(e, off, 1);
	off = add_string(e, off, 2);
	off = add_string(e, off, 4);
	return submit(ctx, e, off);
}

/* Calls whose only data is one path, argument `arg`. */
#define EXIT_ONE_PATH(tp, call, arg)                                                     \
	SEC("tracepoint/syscalls/sys_exit_" #tp)                                          \
	int exit_##tp(struct trace_event_raw_sys_exit *ctx)                               \
	{                                                                                  \
		struct event_buf *e = begin_event(ctx, call);                             \
		if (!e)                                                                    \
			return 0;                                                          \
		return submit(ctx, e, add_string(e, 0, arg));                              \
	}

EXIT_ONE_PATH(umount, CALL_UMOUNT2, 0)
EXIT_ONE_PATH(fsopen, CALL_FSOPEN, 0)
EXIT_ONE_PATH(open_tree, CALL_OPEN_TREE, 1)
EXIT_ONE_PATH(fspick, CALL_FSPICK, 1)

/* fsmount(fs_fd, flags, attr_flags): numbers only. */
SEC("tracepoint/syscalls/sys_exit_fsmount")
int exit_fsmount(struct trace_event_raw_sys_exit *ctx)
{
	struct event_buf *e = begin_event(ctx, CALL_FSMOUNT);

	if (!e)
		return 0;
	return submit(ctx, e, 0);
}

/* move_mount(from_dfd, from_path, to_dfd, to_path, flags) */
SEC("tracepoint/syscalls/sys_exit_move_mount")
int exit_move_mount(struct trace_event_raw_sys_exit *ctx)
{
	struct event_buf *e = begin_event(ctx, CALL_MOVE_MOUNT);
	__u32 off = 0;

	if (!e)
		return 0;
	off = add_string(e, off, 1);
	off = add_string(e, off, 3);
	return submit(ctx, e, off);
}

/* pivot_root(new_root, put_old) */
SEC("tracepoint/syscalls/sys_exit_pivot_root")
int exit_pivot_root(struct trace_event_raw_sys_exit *ctx)
{
	struct event_buf *e = begin_event(ctx, CALL_PIVOT_ROOT);
	__u32 off = 0;

	if (!e)
		return 0;
	off = add_string(e, off, 0);
	off = add_string(e, off, 1);
	return submit(ctx, e, off);
}

/* fsconfig command numbers (uapi/linux/mount.h). */
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_SET_BINARY 2
#define FSCONFIG_SET_PATH 3
#define FSCONFIG_SET_PATH_EMPTY 4

/* fsconfig(fs_fd, cmd, key, value, aux): what `value` is depends on cmd. */
SEC("tracepoint/syscalls/sys_exit_fsconfig")
int exit_fsconfig(struct trace_event_raw_sys_exit *ctx)
{
	struct event_buf *e = begin_event(ctx, CALL_FSCONFIG);
	__u32 off = 0;
	__u32 cmd;

	if (!e)
		return 0;
	cmd = e->hdr.args[1];
	off = add_string(e, off, 2);
	if (cmd == FSCONFIG_SET_STRING || cmd == FSCONFIG_SET_PATH || cmd == FSCONFIG_SET_PATH_EMPTY)
		off = add_string(e, off, 3);
	else if (cmd == FSCONFIG_SET_BINARY)
		/* aux is a C int: the upper half of the register is not part of it. */
		off = add_blob(e, off, 3, (__u32)e->hdr.args[4]);
	return submit(ctx, e, off);
}

/* Size of struct mount_attr as first published (MOUNT_ATTR_SIZE_VER0). */
#define MOUNT_ATTR_SIZE_VER0 32

/*
 * mount_setattr and open_tree_attr: (dfd, path, flags, attr, size).
 * The struct is read up to a page, as strace shows a larger struct's
 * extra bytes; when that much cannot be read, its first 32 bytes still
 * can be shown.
 */
#define EXIT_PATH_AND_ATTR(tp, call)                                                     \
	SEC("tracepoint/syscalls/sys_exit_" #tp)                                          \
	int exit_##tp(struct trace_event_raw_sys_exit *ctx)                               \
	{                                                                                  \
		struct event_buf *e = begin_event(ctx, call);                             \
		__u64 size;                                                                \
		__u32 off;                                                                 \
		if (!e)                                                                    \
			return 0;                                                          \
		off = add_string(e, 0, 1);                                                 \
		size = e->hdr.args[4];                                                     \
		if (size < MOUNT_ATTR_SIZE_VER0)                                           \
			return submit(ctx, e, off);                                        \
		off = add_blob(e, off, 3, size);                                           \
		if (e->hdr.arg_state[3] == ARG_UNREADABLE && size > MOUNT_ATTR_SIZE_VER0) \
			off = add_blob(e, off, 3, MOUNT_ATTR_SIZE_VER0);                   \
		return submit(ctx, e, off);                                                \
	}

EXIT_PATH_AND_ATTR(mount_setattr, CALL_MOUNT_SETATTR)
EXIT_PATH_AND_ATTR(open_tree_attr, CALL_OPEN_TREE_ATTR)
