/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one definition of what crosses from the kernel to user space.
 * Rust reads these types and enums from the generated skeleton
 * (`types`), so a change here is a change on both sides at once: the
 * .bpf.c file names one variable of each type so that it reaches BTF.
 */
#ifndef MOUNTSNOOP_H
#define MOUNTSNOOP_H

#define TASK_COMM_LEN 16
#define SYSCALL_ARGS 6

/*
 * A string argument is read with up to STR_READ_MAX bytes (NUL included):
 * one byte more than the kernel's own limit (PATH_MAX, a page of mount
 * data), so that a string cut by us can be told from one the kernel
 * would have taken whole.
 */
#define STR_READ_MAX 4097
/* A path is PATH_MAX bytes at most, its NUL included. */
#define PATH_READ_MAX 4096
/* A binary argument (fsconfig's SET_BINARY value) is read up to a page. */
#define BLOB_READ_MAX 4096
/* The data read at a call's entry never exceeds this (4 strings of a page). */
#define ENTRY_DATA_MAX 16384
/*
 * An event's data: what the entry read, and the same arguments read again
 * as the call returned (or, for the first time, what the entry could not).
 */
#define EVENT_DATA_MAX (2 * ENTRY_DATA_MAX)
/*
 * Arguments read at entry are kept in the in-flight map when their bytes
 * fit in this much (nearly every call); a call with more keeps them in a
 * second map whose entries are allocated only for such calls.
 */
#define PENDING_INLINE_MAX 512
/* In `again_len`: the argument could not be read again. */
#define AGAIN_UNREADABLE 0xffff

/* The traced calls. New calls go at the end; user space keys on these. */
enum call_id {
	CALL_MOUNT = 0,
	CALL_UMOUNT2 = 1,
	CALL_FSOPEN = 2,
	CALL_FSCONFIG = 3,
	CALL_FSMOUNT = 4,
	CALL_MOVE_MOUNT = 5,
	CALL_OPEN_TREE = 6,
	CALL_MOUNT_SETATTR = 7,
	CALL_FSPICK = 8,
	CALL_PIVOT_ROOT = 9,
	CALL_OPEN_TREE_ATTR = 10,
	/* The old one-argument umount: 32-bit x86 only (ia32 `oldumount`). */
	CALL_UMOUNT = 11,
	CALL_COUNT = 12,
};

/* Which system call table the call came through. */
enum abi {
	ABI_NATIVE = 0, /* x86_64, aarch64 */
	ABI_COMPAT = 1, /* i386 on x86_64, 32-bit ARM (EABI) on aarch64 */
};

/*
 * How the call was seen. A call seccomp refused (or a supervisor answered)
 * never reaches the entry tracepoint; its exit still comes, with the
 * arguments in the registers saved at entry.
 */
enum origin {
	ORIGIN_CALL = 0,            /* entry and exit: the call ran */
	ORIGIN_SECCOMP_ERRNO = 1,   /* refused by a filter's SECCOMP_RET_ERRNO */
	ORIGIN_SECCOMP_TRAP = 2,    /* SECCOMP_RET_TRAP: SIGSYS, result rolled back */
	ORIGIN_SECCOMP_KILL = 3,    /* SECCOMP_RET_KILL_*: the task is killed */
	ORIGIN_SECCOMP_USER_NOTIF = 4, /* answered by a supervisor (SECCOMP_RET_USER_NOTIF) */
	ORIGIN_ENTRY_NOT_SEEN = 5,  /* no entry and no evidence of seccomp: in flight
				     * when tracing began, or its entry was dropped */
};

/* What the event carries for each argument, in `arg_state`. */
enum arg_state {
	ARG_RAW = 0,        /* only the raw value in `args` */
	ARG_NULL = 1,       /* a NULL pointer where data was expected */
	ARG_DATA = 2,       /* data read whole: `arg_len` bytes at `arg_off` */
	ARG_TRUNCATED = 3,  /* data read, but cut at our read limit */
	ARG_UNREADABLE = 4, /* the pointer could not be read */
	/*
	 * A string with no NUL before memory that cannot be read, further
	 * than strace reads (strace shows its address).
	 */
	ARG_UNTERMINATED = 5,
};

/* Counters of what could not be delivered, per CPU, in map `stats`. */
enum stat_id {
	/* No room in the in-flight map: the call is shown from its exit alone. */
	STAT_ARGS_MAP_FULL = 0,
	STAT_OUTPUT_FAILED = 1, /* perf output failed other than for lack of room: lost */
	STAT_BUFFER_FULL = 2,   /* perf buffer had no room: event lost */
	STAT_BIG_ARGS_READ_LATE = 3, /* no room for large arguments at entry: read at exit */
	/*
	 * An exit with no entry, on a kernel without bpf_task_pt_regs (before
	 * 5.15): its arguments cannot be had, the event is lost.
	 */
	STAT_EXIT_ONLY_LOST = 4,
	STAT_COUNT = 5,
};

/*
 * How an argument's memory is read, in `arg_data.kind`, so that user
 * space can try again, by the same rules, what the kernel side could not
 * read (ARG_UNREADABLE): `len` then holds the size wanted.
 */
enum read_kind {
	READ_NONE = 0,   /* not read: a number, or a pointer we do not follow */
	READ_PATH = 1,   /* a path: PATH_MAX bytes at most, its NUL included */
	READ_STRING = 2, /* a string: STR_READ_MAX bytes at most */
	READ_BLOB = 3,   /* `len` bytes */
	READ_MOUNT_ATTR = 4, /* a struct mount_attr of `len` bytes, or its first 32 */
};

/*
 * Paths the kernel side resolved for a call, at the time of the call:
 * what an fd refers to (strace -y), the directories relative paths start
 * from, the caller's cgroups. Slot NAME_ARG0 + i is argument i's fd.
 */
enum name_slot {
	NAME_ARG0 = 0,
	NAME_RET = 6,       /* the fd the call returned */
	NAME_CWD = 7,       /* the caller's working directory (AT_FDCWD) */
	NAME_ROOT = 8,      /* the caller's root, when it is not its namespace's */
	NAME_CGROUP = 9,    /* the caller's cgroup v2 path */
	NAME_CGROUP_V1 = 10, /* its pids cgroup, when that is a v1 hierarchy */
	NAME_SLOTS = 11,
};

/* What a name slot holds, in `names.state`. */
enum name_state {
	NAME_NONE = 0,     /* not asked for */
	/*
	 * A path: its components, the last first, each ended by a NUL; none
	 * for the root. Walked up to the root of the caller's mount namespace
	 * (as /proc/PID/fd shows it to a reader there), or of the cgroup tree.
	 */
	NAME_PATH = 1,
	NAME_PATH_CUT = 2, /* the same, but the walk stopped short of the root */
	/*
	 * A file with a made-up name (anon inode, pipe, socket, ...): u64
	 * filesystem magic, u64 inode number, then the dentry's name.
	 */
	NAME_PSEUDO = 3,
	NAME_NOT_OPEN = 4, /* no such open fd */
};

/* In `names.flags`: the file was deleted (strace's "(deleted)"). */
#define NAME_DELETED 1

/* Deepest path walked; components of NAME_MAX bytes and their NUL. */
#define NAME_WALK_MAX 48
#define NAME_COMPONENT_MAX 256

struct names {
	__u16 off[NAME_SLOTS];
	__u16 len[NAME_SLOTS];
	__u8 state[NAME_SLOTS];
	__u8 flags[NAME_SLOTS];
};

/* Where each argument's bytes are, in an event's or an entry's data. */
struct arg_data {
	__u16 len[SYSCALL_ARGS];
	__u16 off[SYSCALL_ARGS];
	__u8 state[SYSCALL_ARGS];
	__u8 kind[SYSCALL_ARGS];
};

/* What a call's entry leaves for its exit in map `pending`, keyed by tid. */
struct pending_head {
	__u64 start_ns;
	__u64 args[SYSCALL_ARGS];
	__u32 call;
	__u16 data_len;
	/* The data is in map `pending_big`, not inline. */
	__u8 big;
	__u8 abi;
	/* The names could not be kept: the exit resolves them. */
	__u8 names_lost;
	struct arg_data ad;
	struct names names;
};

struct pending_call {
	struct pending_head h;
	/* Arguments read at entry, when they fit. */
	__u8 data[PENDING_INLINE_MAX];
};

/* The arguments of a call whose data did not fit inline. */
struct pending_data {
	__u8 data[ENTRY_DATA_MAX];
};

/*
 * The fixed part of every event. It is followed by `data_len` bytes of
 * data: the bytes of each argument whose state is ARG_DATA or
 * ARG_TRUNCATED, `ad.len[i]` bytes at `ad.off[i]` (strings without their
 * NUL).
 */
struct event_header {
	__u64 start_ns;   /* bpf_ktime_get_ns() at syscall entry */
	__u64 latency_ns; /* exit time minus entry time */
	__s64 ret;
	__u64 args[SYSCALL_ARGS];
	__u64 mnt_ns;
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 call;
	__u16 data_len;
	/*
	 * Bit i: argument i could not be read when the call started (its
	 * page not yet touched) and was read when it returned.
	 */
	__u8 read_at_exit;
	/*
	 * Bit i: argument i could not be read by the kernel side at all;
	 * user space read it from the process's memory after the call.
	 * Never set by the BPF program.
	 */
	__u8 read_after_call;
	struct arg_data ad;
	__u8 abi;    /* enum abi */
	__u8 origin; /* enum origin */
	/*
	 * Bit i: argument i, read at entry, was read again as the call
	 * returned: `again_len[i]` bytes at `again_off[i]` (user space compares
	 * them with what the entry read: a difference means the memory was
	 * rewritten while the call ran). AGAIN_UNREADABLE: not readable then.
	 */
	__u8 reread;
	/* The names were resolved as the call returned, not as it started. */
	__u8 names_at_exit;
	__u8 _pad2[4];
	__u16 again_off[SYSCALL_ARGS];
	__u16 again_len[SYSCALL_ARGS];
	struct names names;
	char comm[TASK_COMM_LEN];
	char pcomm[TASK_COMM_LEN];
};

/*
 * --mounts with the kernel's mount notifications: a process that is in a
 * mount namespace not reported before, as it returns from unshare(2),
 * setns(2), clone(2) or clone3(2) (a new namespace, or one entered), sent
 * on perf buffer `ns_events` so that user space can watch its table.
 */
struct ns_event {
	__u64 mnt_ns; /* the namespace's inode number */
	__u32 pid;    /* a process in it (thread group id) */
	__u32 tid;
};

#endif /* MOUNTSNOOP_H */
