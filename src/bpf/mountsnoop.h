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
/* A binary argument (fsconfig's SET_BINARY value) is read up to a page. */
#define BLOB_READ_MAX 4096
/* Sum of the data of one event never exceeds this (4 strings of a page). */
#define EVENT_DATA_MAX 16384

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
	CALL_COUNT = 11,
};

/* What the event carries for each argument, in `arg_state`. */
enum arg_state {
	ARG_RAW = 0,        /* only the raw value in `args` */
	ARG_NULL = 1,       /* a NULL pointer where data was expected */
	ARG_DATA = 2,       /* data read whole: `arg_len` bytes in `data` */
	ARG_TRUNCATED = 3,  /* data read, but cut at our read limit */
	ARG_UNREADABLE = 4, /* the pointer could not be read */
};

/* Counters of what could not be delivered, per CPU, in map `stats`. */
enum stat_id {
	STAT_ARGS_MAP_FULL = 0, /* entry seen, args map had no room: event lost */
	STAT_OUTPUT_FAILED = 1, /* perf output failed other than for lack of room */
	STAT_BUFFER_FULL = 2,   /* perf buffer had no room: event lost */
	STAT_COUNT = 3,
};

/* What a call's entry leaves for its exit in map `pending`, keyed by tid. */
struct pending_call {
	__u64 start_ns;
	__u64 args[SYSCALL_ARGS];
	__u32 call;
};

/*
 * The fixed part of every event. It is followed by `data`: the bytes of
 * each argument whose state is ARG_DATA or ARG_TRUNCATED, in argument
 * order, `arg_len[i]` bytes each (strings without their NUL).
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
	__u16 arg_len[SYSCALL_ARGS];
	__u8 arg_state[SYSCALL_ARGS];
	char comm[TASK_COMM_LEN];
	char pcomm[TASK_COMM_LEN];
};

#endif /* MOUNTSNOOP_H */
