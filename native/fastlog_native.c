/*
 * fastlog_native: the few things P/Invoke cannot do well.
 *
 * io_uring has no libc wrappers and syscall() is variadic, which .NET cannot call portably, so this file
 * exposes the three io_uring syscalls with fixed signatures. Everything else (mmap of the rings, filling
 * SQEs, reaping CQEs) is done from C#.
 *
 * The static_asserts pin the layouts that the C# structs mirror (FastLog.Interop.IoUring and
 * FastLog.Frontends.Ublk); fl_abi_size() lets the tests compare both sides at run time.
 * Every function returns a non-negative result or -errno; errno itself is never consulted by callers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/io_uring.h>
#include <linux/time_types.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#define __NR_io_uring_register 427
#endif

/* Our own copies of the ublk UAPI (the host's linux-libc-dev may predate ublk_params' newer members). */
struct fl_ublksrv_ctrl_cmd {
	uint32_t dev_id; uint16_t queue_id; uint16_t len; uint64_t addr; uint64_t data[1];
	uint16_t dev_path_len; uint16_t pad; uint32_t reserved;
};
struct fl_ublksrv_ctrl_dev_info {
	uint16_t nr_hw_queues, queue_depth, state, pad0; uint32_t max_io_buf_bytes, dev_id;
	int32_t ublksrv_pid; uint32_t pad1; uint64_t flags, ublksrv_flags; uint32_t owner_uid, owner_gid;
	uint64_t reserved1, reserved2;
};
struct fl_ublksrv_io_cmd { uint16_t q_id, tag; int32_t result; uint64_t addr; };
struct fl_ublksrv_io_desc { uint32_t op_flags, nr_sectors; uint64_t start_sector, addr; };
struct fl_ublk_param_basic {
	uint32_t attrs; uint8_t logical_bs_shift, physical_bs_shift, io_opt_shift, io_min_shift;
	uint32_t max_sectors, chunk_sectors; uint64_t dev_sectors, virt_boundary_mask;
};
struct fl_ublk_param_discard {
	uint32_t discard_alignment, discard_granularity, max_discard_sectors, max_write_zeroes_sectors;
	uint16_t max_discard_segments, reserved0;
};
struct fl_ublk_params {
	uint32_t len, types; struct fl_ublk_param_basic basic; struct fl_ublk_param_discard discard;
	uint8_t later_types[152 - 60]; /* devt, zoned, dma_align, segment, integrity: unused, kept zero */
};

_Static_assert(sizeof(struct io_uring_sqe) == 64, "io_uring_sqe");
_Static_assert(offsetof(struct io_uring_sqe, cmd_op) == 8, "sqe.cmd_op");
_Static_assert(offsetof(struct io_uring_sqe, addr) == 16, "sqe.addr");
_Static_assert(offsetof(struct io_uring_sqe, user_data) == 32, "sqe.user_data");
_Static_assert(offsetof(struct io_uring_sqe, cmd) == 48, "sqe.cmd");
_Static_assert(sizeof(struct io_uring_cqe) == 16, "io_uring_cqe");
_Static_assert(sizeof(struct io_uring_params) == 120, "io_uring_params");
_Static_assert(offsetof(struct io_uring_params, sq_off) == 40, "params.sq_off");
_Static_assert(offsetof(struct io_uring_params, cq_off) == 80, "params.cq_off");
_Static_assert(sizeof(struct fl_ublksrv_ctrl_cmd) == 32, "ublksrv_ctrl_cmd");
_Static_assert(sizeof(struct fl_ublksrv_ctrl_dev_info) == 64, "ublksrv_ctrl_dev_info");
_Static_assert(offsetof(struct fl_ublksrv_ctrl_dev_info, flags) == 24, "dev_info.flags");
_Static_assert(sizeof(struct fl_ublksrv_io_cmd) == 16, "ublksrv_io_cmd");
_Static_assert(sizeof(struct fl_ublksrv_io_desc) == 24, "ublksrv_io_desc");
_Static_assert(offsetof(struct fl_ublk_params, basic) == 8, "params.basic");
_Static_assert(offsetof(struct fl_ublk_params, discard) == 40, "params.discard");
_Static_assert(sizeof(struct fl_ublk_params) == 152, "ublk_params");

/* Identifiers for fl_abi_size; the C# side has the same numbers (NativeAbi.cs). */
enum {
	FL_ABI_IO_URING_SQE = 1, FL_ABI_IO_URING_CQE, FL_ABI_IO_URING_PARAMS, FL_ABI_UBLKSRV_CTRL_CMD,
	FL_ABI_UBLKSRV_CTRL_DEV_INFO, FL_ABI_UBLKSRV_IO_CMD, FL_ABI_UBLKSRV_IO_DESC, FL_ABI_UBLK_PARAMS,
	FL_ABI_GETEVENTS_ARG,
};

int fl_abi_size(int id)
{
	switch (id) {
	case FL_ABI_IO_URING_SQE: return sizeof(struct io_uring_sqe);
	case FL_ABI_IO_URING_CQE: return sizeof(struct io_uring_cqe);
	case FL_ABI_IO_URING_PARAMS: return sizeof(struct io_uring_params);
	case FL_ABI_UBLKSRV_CTRL_CMD: return sizeof(struct fl_ublksrv_ctrl_cmd);
	case FL_ABI_UBLKSRV_CTRL_DEV_INFO: return sizeof(struct fl_ublksrv_ctrl_dev_info);
	case FL_ABI_UBLKSRV_IO_CMD: return sizeof(struct fl_ublksrv_io_cmd);
	case FL_ABI_UBLKSRV_IO_DESC: return sizeof(struct fl_ublksrv_io_desc);
	case FL_ABI_UBLK_PARAMS: return sizeof(struct fl_ublk_params);
	case FL_ABI_GETEVENTS_ARG: return sizeof(struct io_uring_getevents_arg);
	default: return -1;
	}
}

int fl_io_uring_setup(uint32_t entries, struct io_uring_params *params)
{
	long rc = syscall(__NR_io_uring_setup, entries, params);
	return rc < 0 ? -errno : (int)rc;
}

int fl_io_uring_enter(int fd, uint32_t to_submit, uint32_t min_complete, uint32_t flags)
{
	long rc = syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, (size_t)0);
	return rc < 0 ? -errno : (int)rc;
}

/*
 * io_uring_enter waiting at most timeout_ns for min_complete CQEs (IORING_ENTER_EXT_ARG, 5.11+).
 * Returns -ETIME when the wait timed out; submissions made by this call stand either way.
 */
int fl_io_uring_enter_timeout(int fd, uint32_t to_submit, uint32_t min_complete, uint32_t flags, int64_t timeout_ns)
{
	struct __kernel_timespec ts = { .tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000 };
	struct io_uring_getevents_arg arg;
	memset(&arg, 0, sizeof(arg));
	arg.ts = (uint64_t)(uintptr_t)&ts;
	long rc = syscall(__NR_io_uring_enter, fd, to_submit, min_complete,
			  flags | IORING_ENTER_EXT_ARG | IORING_ENTER_GETEVENTS, &arg, sizeof(arg));
	return rc < 0 ? -errno : (int)rc;
}

int fl_io_uring_register(int fd, uint32_t opcode, void *arg, uint32_t nr_args)
{
	long rc = syscall(__NR_io_uring_register, fd, opcode, arg, nr_args);
	return rc < 0 ? -errno : (int)rc;
}
