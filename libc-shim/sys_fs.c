/* File syscalls: I/O, open/close, stat, directories, paths, ioctl (host-backed). */
#include "shim.h"

/* Files live on the host: each call checks what it can (pointers, lengths,
 * flags) and forwards one hypercall. The host checks every buffer again. */

/* ---- read/write family ------------------------------------------------------ */

/* The buffer of a one-buffer transfer: the part of it in program memory, at
 * most UKF_MAX_RW_COUNT bytes. A bad start becomes UKF_USER_BAD, so the host
 * checks the fd first and then says EFAULT, as Linux does. */
static struct ukf_iovec user_buf(uint64_t buf, uint64_t count)
{
	int64_t n = ukf_user_span(buf, count);
	if (n < 0)
		return (struct ukf_iovec){ .base = UKF_USER_BAD, .len = 1 };
	if ((uint64_t)n > UKF_MAX_RW_COUNT)
		n = UKF_MAX_RW_COUNT;
	return (struct ukf_iovec){ .base = buf, .len = (uint64_t)n };
}

static int64_t rw_one(unsigned hc, int32_t fd, struct ukf_iovec iov,
		      uint32_t flags, int64_t off)
{
	struct ukf_hc_rw rw = {
		.fd = fd, .flags = flags, .iov = (uint64_t)(uintptr_t)&iov,
		.iovcnt = 1, .offset = off,
	};
	return ukf_hcall(hc, &rw);
}

/* The user's struct iovec has the layout of ukf_iovec: it goes to the host
 * as is, checked by ukf_user_vec. */
static int64_t rw_vec(unsigned hc, int32_t fd, uint64_t uiov, int32_t iovcnt,
		      uint32_t flags, int64_t off)
{
	struct ukf_hc_rw rw = {
		.fd = fd, .flags = flags, .iov = ukf_user_vec(uiov, (uint64_t)(int64_t)iovcnt),
		.iovcnt = (uint64_t)(int64_t)iovcnt, .offset = off,
	};
	return ukf_hcall(hc, &rw);
}

/* Pipe rings first (ring.c): no exit when the ring can serve the call. A
 * call the host finishes is timed, for the ring's polling budget. uiov is
 * the program's vector, or 0 for read and write's single buffer. */
static int64_t host_vec(unsigned hc, int32_t fd, const struct ukf_iovec *iov, int cnt, uint64_t uiov)
{
	if (!uiov)
		return rw_one(hc, fd, iov[0], 0, 0);
	return rw_vec(hc, fd, uiov, cnt, 0, 0);
}

static int64_t read_vec(int32_t fd, const struct ukf_iovec *iov, int cnt, uint64_t uiov)
{
	if (!ukf_is_ring(fd))
		return host_vec(UKF_HC_READV, fd, iov, cnt, uiov);
	int64_t r = ukf_ring_readv(fd, iov, cnt);
	if (r != UKF_RING_HOST)
		return r;
	uint64_t t0 = ukf_rdtsc();
	r = host_vec(UKF_HC_READV, fd, iov, cnt, uiov);
	ukf_ring_blocked(ukf_rdtsc() - t0);
	return r;
}

static int64_t write_vec(int32_t fd, const struct ukf_iovec *iov, int cnt, uint64_t uiov)
{
	if (!ukf_is_ring(fd))
		return host_vec(UKF_HC_WRITEV, fd, iov, cnt, uiov);
	uint64_t done;
	int64_t r = ukf_ring_writev(fd, iov, cnt, &done);
	if (r != UKF_RING_HOST)
		return r;
	uint64_t t0 = ukf_rdtsc();
	if (!done) {
		r = host_vec(UKF_HC_WRITEV, fd, iov, cnt, uiov);
	} else {
		/* The rest, piece by piece, as one blocking write would. */
		uint64_t skip = done;
		r = 0;
		for (int i = 0; i < cnt && r >= 0; i++) {
			if (skip >= iov[i].len) {
				skip -= iov[i].len;
				continue;
			}
			uint64_t len = iov[i].len - skip;
			r = rw_one(UKF_HC_WRITEV, fd, user_buf(iov[i].base + skip, len), 0, 0);
			skip = 0;
			if (r > 0)
				done += (uint64_t)r;
			if (r >= 0 && (uint64_t)r < len)
				break;
		}
	}
	ukf_ring_blocked(ukf_rdtsc() - t0);
	if (done)
		return (int64_t)done;
	return r;
}

UKF_SYSCALL3(read, int32_t, fd, uint64_t, buf, uint64_t, count)
{
	struct ukf_iovec iov = user_buf(buf, count);
	if (iov.base == UKF_USER_BAD)
		return rw_one(UKF_HC_READV, fd, iov, 0, 0);
	return read_vec(fd, &iov, 1, 0);
}

UKF_SYSCALL3(write, int32_t, fd, uint64_t, buf, uint64_t, count)
{
	struct ukf_iovec iov = user_buf(buf, count);
	if (iov.base == UKF_USER_BAD)
		return rw_one(UKF_HC_WRITEV, fd, iov, 0, 0);
	return write_vec(fd, &iov, 1, 0);
}

UKF_SYSCALL4(pread64, int32_t, fd, uint64_t, buf, uint64_t, count, int64_t, off)
{
	if (off < 0) /* before the fd, as Linux */
		return -EINVAL;
	return rw_one(UKF_HC_READV, fd, user_buf(buf, count), UKF_RW_OFFSET, off);
}

UKF_SYSCALL4(pwrite64, int32_t, fd, uint64_t, buf, uint64_t, count, int64_t, off)
{
	if (off < 0) /* before the fd, as Linux */
		return -EINVAL;
	return rw_one(UKF_HC_WRITEV, fd, user_buf(buf, count), UKF_RW_OFFSET, off);
}

/* vec_ok: a vector the runtime may read itself (else the host says why not). */
static int vec_ok(uint64_t iov, int32_t iovcnt)
{
	return iovcnt >= 0 && iovcnt <= UKF_UIO_MAXIOV &&
	       ukf_user_ok(iov, (uint64_t)iovcnt * sizeof(struct ukf_iovec));
}

UKF_SYSCALL3(readv, int32_t, fd, uint64_t, iov, int32_t, iovcnt)
{
	if (!vec_ok(iov, iovcnt))
		return rw_vec(UKF_HC_READV, fd, iov, iovcnt, 0, 0);
	return read_vec(fd, UKF_UPTR(const struct ukf_iovec, iov), iovcnt, iov);
}

UKF_SYSCALL3(writev, int32_t, fd, uint64_t, iov, int32_t, iovcnt)
{
	if (!vec_ok(iov, iovcnt))
		return rw_vec(UKF_HC_WRITEV, fd, iov, iovcnt, 0, 0);
	return write_vec(fd, UKF_UPTR(const struct ukf_iovec, iov), iovcnt, iov);
}

/* On x86_64 the whole offset is in pos_l; pos_h is for 32-bit ABIs. */
UKF_SYSCALL4(preadv, int32_t, fd, uint64_t, iov, int32_t, iovcnt, int64_t, pos_l)
{
	if (pos_l < 0)
		return -EINVAL;
	return rw_vec(UKF_HC_READV, fd, iov, iovcnt, UKF_RW_OFFSET, pos_l);
}

UKF_SYSCALL4(pwritev, int32_t, fd, uint64_t, iov, int32_t, iovcnt, int64_t, pos_l)
{
	if (pos_l < 0)
		return -EINVAL;
	return rw_vec(UKF_HC_WRITEV, fd, iov, iovcnt, UKF_RW_OFFSET, pos_l);
}

/* preadv2/pwritev2: offset -1 means the file position; RWF_* flags are
 * hints we cannot pass on. */
static int64_t rw_vec2(unsigned hc, int32_t fd, uint64_t iov, int32_t iovcnt,
		       int64_t off, uint32_t flags)
{
	if (flags)
		return -EOPNOTSUPP;
	if (off == -1)
		return rw_vec(hc, fd, iov, iovcnt, 0, 0);
	if (off < 0)
		return -EINVAL;
	return rw_vec(hc, fd, iov, iovcnt, UKF_RW_OFFSET, off);
}

UKF_SYSCALL6(preadv2, int32_t, fd, uint64_t, iov, int32_t, iovcnt, int64_t, pos_l,
	     int64_t, pos_h, uint32_t, flags)
{
	(void)pos_h;
	return rw_vec2(UKF_HC_READV, fd, iov, iovcnt, pos_l, flags);
}

UKF_SYSCALL6(pwritev2, int32_t, fd, uint64_t, iov, int32_t, iovcnt, int64_t, pos_l,
	     int64_t, pos_h, uint32_t, flags)
{
	(void)pos_h;
	return rw_vec2(UKF_HC_WRITEV, fd, iov, iovcnt, pos_l, flags);
}

/* The host checks the fd, then whence. */
UKF_SYSCALL3(lseek, int32_t, fd, int64_t, off, uint32_t, whence)
{
	struct ukf_hc_lseek l = { .fd = fd, .whence = (int32_t)whence, .offset = off };
	return ukf_hcall(UKF_HC_LSEEK, &l);
}

UKF_SYSCALL1(close, int32_t, fd)
{
	struct ukf_hc_close c = { .fd = fd };
	return ukf_hcall(UKF_HC_CLOSE, &c);
}

UKF_SYSCALL3(close_range, uint32_t, first, uint32_t, last, uint32_t, flags)
{
	struct ukf_hc_close c = { .fd = (int32_t)first, .last = last, .flags = UKF_CLOSE_RANGE | flags };
	return ukf_hcall(UKF_HC_CLOSE, &c);
}

UKF_SYSCALL3(getdents64, int32_t, fd, uint64_t, buf, uint32_t, count)
{
	/* The host checks the fd first; the buffer is cut at the end of RAM. */
	int64_t n = ukf_user_span(buf, count);
	struct ukf_hc_getdents64 g = {
		.fd = fd, .dirp = n < 0 ? UKF_USER_BAD : buf,
		.count = n < 0 ? count : (uint64_t)n,
	};
	return ukf_hcall(UKF_HC_GETDENTS64, &g);
}

/* The pointer requests the host serves and the size of what each points
 * at (hypervisor/vfs/ioctl.go is the list, with what the host does; its
 * test checks this copy). Other requests pass their argument as it is: a
 * by-value one, or one the host refuses with ENOTTY. */
static const struct { uint32_t req, size; } ioctl_sizes[] = {
	{ 0x5401, 36 }, /* TCGETS */
	{ 0x5402, 36 }, /* TCSETS */
	{ 0x5403, 36 }, /* TCSETSW */
	{ 0x5404, 36 }, /* TCSETSF */
	{ 0x5413, 8 },  /* TIOCGWINSZ */
	{ 0x5414, 8 },  /* TIOCSWINSZ */
	{ 0x541b, 4 },  /* FIONREAD */
	{ 0x5411, 4 },  /* TIOCOUTQ */
	{ 0x5421, 4 },  /* FIONBIO */
	{ 0x5452, 4 },  /* FIOASYNC */
	{ 0x80045440, 4 }, /* TIOCGEXCL */
	{ 0x80045430, 4 }, /* TIOCGPTN */
	{ 0x40045431, 4 }, /* TIOCSPTLCK */
	{ 0x80045439, 4 }, /* TIOCGPTLCK */
	{ 0x5420, 4 },  /* TIOCPKT */
	{ 0x80045438, 4 }, /* TIOCGPKT */
	{ 0x540f, 4 },  /* TIOCGPGRP */
	{ 0x5410, 4 },  /* TIOCSPGRP */
	{ 0x5429, 4 },  /* TIOCGSID */
};

UKF_SYSCALL3(ioctl, int32_t, fd, uint32_t, req, uint64_t, arg)
{
	for (unsigned i = 0; i < sizeof ioctl_sizes / sizeof ioctl_sizes[0]; i++)
		if (ioctl_sizes[i].req == req)
			arg = ukf_user_arg(arg, ioctl_sizes[i].size);
	/* The host checks the fd first, then the buffer. */
	struct ukf_hc_ioctl i = { .fd = fd, .request = req, .arg = arg };
	return ukf_hcall(UKF_HC_IOCTL, &i);
}

/* ---- Calls that name a path ------------------------------------------------- */

/* Fill in *at for path upath. An empty path is ENOENT unless empty_ok (the
 * call's AT_EMPTY_PATH), which also allows a NULL path, as Linux 6.11 does.
 * A bad path reaches the host, which checks the flags first. */
static int64_t fill_at(struct ukf_at *at, int32_t dirfd, uint64_t upath, int32_t flags,
		       int empty_ok)
{
	int64_t n = 0;

	if (upath || !empty_ok) {
		n = ukf_user_path(upath);
		if (n == -EFAULT) {
			upath = UKF_USER_BAD;
			n = 1;
		}
		if (n < 0)
			return n;
	}
	if (n == 0 && !empty_ok)
		return -ENOENT;
	*at = (struct ukf_at){
		.dirfd = dirfd, .flags = flags, .path = upath, .pathlen = (uint64_t)n,
	};
	return 0;
}

/* Fill in *at (inside args) and forward path call hc. */
static int64_t at_call(unsigned hc, void *args, struct ukf_at *at, int32_t dirfd,
		       uint64_t upath, int32_t flags, int empty_ok)
{
	int64_t r = fill_at(at, dirfd, upath, flags, empty_ok);
	if (r < 0)
		return r;
	return ukf_hcall(hc, args);
}

/* fstatat and the calls made of it; AT_EMPTY_PATH allows an empty path. */
static int64_t fstatat_call(int32_t dirfd, uint64_t path, int32_t flags, uint64_t statbuf)
{
	struct ukf_hc_fstatat s = { .statbuf = statbuf };
	return at_call(UKF_HC_FSTATAT, &s, &s.at, dirfd, path, flags,
		       flags & UKF_AT_EMPTY_PATH);
}

UKF_SYSCALL4(openat, int32_t, dirfd, uint64_t, path, int32_t, flags, uint32_t, mode)
{
	/* The umask lives in the guest, so it is applied here. */
	if ((flags & UKF_O_CREAT) || (flags & UKF_O_TMPFILE) == UKF_O_TMPFILE)
		mode &= ~ukf_umask & 07777;
	else
		mode = 0;
	struct ukf_hc_openat o = { .flags = flags, .mode = mode };
	return at_call(UKF_HC_OPENAT, &o, &o.at, dirfd, path, 0, 0);
}

UKF_SYSCALL3(open, uint64_t, path, int32_t, flags, uint32_t, mode)
{
	return do_openat(UKF_AT_FDCWD, path, flags, mode);
}

UKF_SYSCALL2(creat, uint64_t, path, uint32_t, mode)
{
	return do_openat(UKF_AT_FDCWD, path, UKF_O_CREAT | UKF_O_WRONLY | UKF_O_TRUNC,
			 mode);
}

static int64_t stat_at(int32_t dirfd, uint64_t path, uint64_t buf, int32_t flags)
{
	if (flags & ~(UKF_AT_SYMLINK_NOFOLLOW | UKF_AT_EMPTY_PATH | UKF_AT_NO_AUTOMOUNT))
		return -EINVAL;
	/* The host finds the file first: ENOENT or EBADF before EFAULT. */
	return fstatat_call(dirfd, path, flags, ukf_user_arg(buf, sizeof(struct ukf_stat)));
}

UKF_SYSCALL4(newfstatat, int32_t, dirfd, uint64_t, path, uint64_t, buf, int32_t, flags)
{
	return stat_at(dirfd, path, buf, flags);
}

UKF_SYSCALL2(fstat, int32_t, fd, uint64_t, buf)
{
	return stat_at(fd, 0, buf, UKF_AT_EMPTY_PATH);
}

UKF_SYSCALL2(stat, uint64_t, path, uint64_t, buf)
{
	return stat_at(UKF_AT_FDCWD, path, buf, 0);
}

UKF_SYSCALL2(lstat, uint64_t, path, uint64_t, buf)
{
	return stat_at(UKF_AT_FDCWD, path, buf, UKF_AT_SYMLINK_NOFOLLOW);
}

/* glibc's (new_encode_dev) split of a dev_t. */
static uint32_t dev_major(uint64_t dev)
{
	return (uint32_t)(((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffULL));
}

static uint32_t dev_minor(uint64_t dev)
{
	return (uint32_t)((dev & 0xff) | ((dev >> 12) & ~0xffULL));
}

#define UKF_STATX_BASIC_STATS 0x7ffU
#define UKF_STATX_RESERVED    0x80000000U
UKF_SYSCALL5(statx, int32_t, dirfd, uint64_t, path, int32_t, flags, uint32_t, mask,
	     uint64_t, ubuf)
{
	struct ukf_stat st;

	if (mask & UKF_STATX_RESERVED)
		return -EINVAL;
	if (flags & ~(UKF_AT_SYMLINK_NOFOLLOW | UKF_AT_EMPTY_PATH |
		      UKF_AT_NO_AUTOMOUNT | UKF_AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if ((flags & UKF_AT_STATX_SYNC_TYPE) == UKF_AT_STATX_SYNC_TYPE)
		return -EINVAL;
	if (!ukf_user_ok(ubuf, sizeof(struct ukf_statx)))
		return -EFAULT;
	/* The host writes into runtime memory here, not the user's buffer. */
	int64_t r = fstatat_call(dirfd, path, flags & ~UKF_AT_STATX_SYNC_TYPE,
				 (uint64_t)(uintptr_t)&st);
	if (r < 0)
		return r;

	struct ukf_statx *sx = UKF_UPTR(struct ukf_statx, ubuf);
	memset(sx, 0, sizeof(*sx));
	sx->stx_mask = UKF_STATX_BASIC_STATS;
	sx->stx_blksize = (uint32_t)st.st_blksize;
	sx->stx_nlink = (uint32_t)st.st_nlink;
	sx->stx_uid = st.st_uid;
	sx->stx_gid = st.st_gid;
	sx->stx_mode = (uint16_t)st.st_mode;
	sx->stx_ino = st.st_ino;
	sx->stx_size = (uint64_t)st.st_size;
	sx->stx_blocks = (uint64_t)st.st_blocks;
	sx->stx_atime = (struct ukf_statx_timestamp){ st.st_atime_sec, (uint32_t)st.st_atime_nsec, 0 };
	sx->stx_mtime = (struct ukf_statx_timestamp){ st.st_mtime_sec, (uint32_t)st.st_mtime_nsec, 0 };
	sx->stx_ctime = (struct ukf_statx_timestamp){ st.st_ctime_sec, (uint32_t)st.st_ctime_nsec, 0 };
	sx->stx_rdev_major = dev_major(st.st_rdev);
	sx->stx_rdev_minor = dev_minor(st.st_rdev);
	sx->stx_dev_major = dev_major(st.st_dev);
	sx->stx_dev_minor = dev_minor(st.st_dev);
	return 0;
}

UKF_SYSCALL4(readlinkat, int32_t, dirfd, uint64_t, path, uint64_t, buf, int32_t, size)
{
	if (size <= 0)
		return -EINVAL;
	struct ukf_hc_readlinkat r = {
		.buf = ukf_user_arg(buf, (uint64_t)size), .bufsiz = (uint64_t)size,
	};
	return at_call(UKF_HC_READLINKAT, &r, &r.at, dirfd, path, 0, 0);
}

UKF_SYSCALL3(readlink, uint64_t, path, uint64_t, buf, int32_t, size)
{
	return do_readlinkat(UKF_AT_FDCWD, path, buf, size);
}

UKF_SYSCALL4(faccessat2, int32_t, dirfd, uint64_t, path, uint32_t, mode, int32_t, flags)
{
	if (mode & ~7u) /* F_OK/R_OK/W_OK/X_OK */
		return -EINVAL;
	if (flags & ~(UKF_AT_EACCESS | UKF_AT_SYMLINK_NOFOLLOW | UKF_AT_EMPTY_PATH))
		return -EINVAL;
	struct ukf_hc_faccessat a = { .mode = mode };
	return at_call(UKF_HC_FACCESSAT, &a, &a.at, dirfd, path, flags,
		       flags & UKF_AT_EMPTY_PATH);
}

UKF_SYSCALL3(faccessat, int32_t, dirfd, uint64_t, path, uint32_t, mode)
{
	return do_faccessat2(dirfd, path, mode, 0);
}

UKF_SYSCALL2(access, uint64_t, path, uint32_t, mode)
{
	return do_faccessat2(UKF_AT_FDCWD, path, mode, 0);
}

/* The kernel returns the length including the NUL; measure it rather than
 * rely on the host's count. */
UKF_SYSCALL2(getcwd, uint64_t, buf, uint64_t, size)
{
	if (size == 0)
		return -ERANGE;
	/* The host says ERANGE before it writes (EFAULT). */
	struct ukf_hc_getcwd g = { .buf = ukf_user_arg(buf, size), .size = size };
	int64_t r = ukf_hcall(UKF_HC_GETCWD, &g);
	if (r < 0)
		return r;
	uint64_t n = strnlen(UKF_UPTR(const char, buf), size);
	return n < size ? (int64_t)n + 1 : -ERANGE;
}

UKF_SYSCALL1(chdir, uint64_t, path)
{
	struct ukf_hc_chdir c = { 0 };
	return at_call(UKF_HC_CHDIR, &c, &c.at, UKF_AT_FDCWD, path, 0, 0);
}

/* fchdir is chdir relative to fd with an empty path. */
UKF_SYSCALL1(fchdir, int32_t, fd)
{
	struct ukf_hc_chdir c = { .at = { .dirfd = fd } };
	return ukf_hcall(UKF_HC_CHDIR, &c);
}

/* ---- Changing the tree ---------------------------------------------------------- */

/* The run's tree is writable (the image under a memory layer, /tmp, /run,
 * /dev/shm, volumes): the host does the work and Linux's checks, with the
 * file-system ids the runtime publishes (sys_cred.c). The umask lives
 * here, so it is applied here. */
#define UKF_AT_REMOVEDIR     0x200
#define UKF_AT_SYMLINK_FOLLOW 0x400
#define UKF_S_IFMT  0170000
#define UKF_S_IFDIR 0040000
#define UKF_S_IFREG 0100000
#define UKF_UTIME_NOW  ((1l << 30) - 1l)
#define UKF_UTIME_OMIT ((1l << 30) - 2l)

UKF_SYSCALL3(unlinkat, int32_t, dirfd, uint64_t, path, int32_t, flags)
{
	struct ukf_hc_unlinkat u = { 0 };
	return at_call(UKF_HC_UNLINKAT, &u, &u.at, dirfd, path, flags, 0);
}

UKF_SYSCALL1(unlink, uint64_t, path)
{
	return do_unlinkat(UKF_AT_FDCWD, path, 0);
}

UKF_SYSCALL1(rmdir, uint64_t, path)
{
	return do_unlinkat(UKF_AT_FDCWD, path, UKF_AT_REMOVEDIR);
}

static int64_t mknod_at(int32_t dirfd, uint64_t path, uint32_t mode, uint64_t dev)
{
	struct ukf_hc_mknodat k = { .mode = mode, .dev = dev };
	return at_call(UKF_HC_MKNODAT, &k, &k.at, dirfd, path, 0, 0);
}

/* mkdir keeps the sticky bit and the permissions, less the umask. */
UKF_SYSCALL3(mkdirat, int32_t, dirfd, uint64_t, path, uint32_t, mode)
{
	return mknod_at(dirfd, path, UKF_S_IFDIR | (mode & 01777 & ~ukf_umask), 0);
}

UKF_SYSCALL2(mkdir, uint64_t, path, uint32_t, mode)
{
	return do_mkdirat(UKF_AT_FDCWD, path, mode);
}

/* mknod of type 0 makes a regular file, as Linux. */
UKF_SYSCALL4(mknodat, int32_t, dirfd, uint64_t, path, uint32_t, mode, uint32_t, dev)
{
	uint32_t type = mode & UKF_S_IFMT;
	if (type == 0)
		type = UKF_S_IFREG;
	return mknod_at(dirfd, path, type | (mode & 07777 & ~ukf_umask), dev);
}

UKF_SYSCALL3(mknod, uint64_t, path, uint32_t, mode, uint32_t, dev)
{
	return do_mknodat(UKF_AT_FDCWD, path, mode, dev);
}

/* Two names: both are read (checked) before the host looks either up. */
static int64_t at2_call(unsigned hc, int32_t odir, uint64_t opath, int32_t oflags, int oempty,
			int32_t ndir, uint64_t npath, uint32_t flags)
{
	struct ukf_hc_at2 a = { .flags = flags };
	int64_t r = fill_at(&a.from, odir, opath, oflags, oempty);
	int64_t r2 = fill_at(&a.to, ndir, npath, 0, 0);
	if (r < 0)
		return r;
	if (r2 < 0)
		return r2;
	return ukf_hcall(hc, &a);
}

UKF_SYSCALL5(renameat2, int32_t, odir, uint64_t, opath, int32_t, ndir, uint64_t, npath,
	     uint32_t, flags)
{
	return at2_call(UKF_HC_RENAMEAT, odir, opath, 0, 0, ndir, npath, flags);
}

UKF_SYSCALL4(renameat, int32_t, odir, uint64_t, opath, int32_t, ndir, uint64_t, npath)
{
	return do_renameat2(odir, opath, ndir, npath, 0);
}

UKF_SYSCALL2(rename, uint64_t, opath, uint64_t, npath)
{
	return do_renameat2(UKF_AT_FDCWD, opath, UKF_AT_FDCWD, npath, 0);
}

UKF_SYSCALL5(linkat, int32_t, odir, uint64_t, opath, int32_t, ndir, uint64_t, npath,
	     int32_t, flags)
{
	if (flags & ~(UKF_AT_SYMLINK_FOLLOW | UKF_AT_EMPTY_PATH))
		return -EINVAL;
	return at2_call(UKF_HC_LINKAT, odir, opath, flags, flags & UKF_AT_EMPTY_PATH,
			ndir, npath, 0);
}

UKF_SYSCALL2(link, uint64_t, opath, uint64_t, npath)
{
	return do_linkat(UKF_AT_FDCWD, opath, UKF_AT_FDCWD, npath, 0);
}

UKF_SYSCALL3(symlinkat, uint64_t, target, int32_t, dirfd, uint64_t, path)
{
	int64_t n = ukf_user_path(target);
	if (n < 0)
		return n;
	struct ukf_hc_symlinkat s = { .target = target, .targetlen = (uint64_t)n };
	return at_call(UKF_HC_SYMLINKAT, &s, &s.at, dirfd, path, 0, 0);
}

UKF_SYSCALL2(symlink, uint64_t, target, uint64_t, path)
{
	return do_symlinkat(target, UKF_AT_FDCWD, path);
}

UKF_SYSCALL2(truncate, uint64_t, path, int64_t, length)
{
	struct ukf_hc_truncate t = { .length = length };
	return at_call(UKF_HC_TRUNCATE, &t, &t.at, UKF_AT_FDCWD, path, 0, 0);
}

UKF_SYSCALL2(ftruncate, int32_t, fd, int64_t, length)
{
	struct ukf_hc_truncate t = {
		.at = { .dirfd = fd, .flags = UKF_AT_EMPTY_PATH }, .length = length,
	};
	return ukf_hcall(UKF_HC_TRUNCATE, &t);
}

UKF_SYSCALL4(fallocate, int32_t, fd, int32_t, mode, int64_t, offset, int64_t, len)
{
	struct ukf_hc_fallocate f = { .fd = fd, .mode = mode, .offset = offset, .len = len };
	return ukf_hcall(UKF_HC_FALLOCATE, &f);
}

static int64_t sync_fd(int32_t fd, uint32_t op)
{
	struct ukf_hc_fsync f = { .fd = fd, .op = op };
	return ukf_hcall(UKF_HC_FSYNC, &f);
}

UKF_SYSCALL1(fsync, int32_t, fd) { return sync_fd(fd, UKF_FSYNC); }
UKF_SYSCALL1(fdatasync, int32_t, fd) { return sync_fd(fd, UKF_FDATASYNC); }
UKF_SYSCALL1(syncfs, int32_t, fd) { return sync_fd(fd, UKF_SYNCFS); }

#define SYNC_FILE_RANGE_WAIT_BEFORE 1
#define SYNC_FILE_RANGE_WRITE       2
#define SYNC_FILE_RANGE_WAIT_AFTER  4

/* A range's write-out is the file's (fdatasync): more than asked, never
 * less. Flags with no write only wait, which a synchronous flush already
 * did. */
UKF_SYSCALL4(sync_file_range, int32_t, fd, int64_t, off, int64_t, len, uint32_t, flags)
{
	if (flags & ~(uint32_t)(SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER))
		return -EINVAL;
	if (off < 0 || len < 0 || off + len < off)
		return -EINVAL;
	int64_t r = sync_fd(fd, UKF_FDATASYNC);
	if (r == -EINVAL)
		return -ESPIPE; /* a pipe */
	return r;
}
/* Memory files have nothing to write back; volumes are the host's files. */
UKF_SYSCALL0(sync) { return 0; }

/* The times as utimensat takes them; NULL is "now" for both. */
static int64_t utimens_call(int32_t dirfd, uint64_t path, const struct ukf_utime *ts,
			    int32_t flags)
{
	struct ukf_hc_utimensat u = { .times = {
		{ 0, UKF_UTIME_NOW }, { 0, UKF_UTIME_NOW } } };
	if (ts) {
		u.times[0] = ts[0];
		u.times[1] = ts[1];
	}
	/* A NULL path names dirfd itself (futimens). */
	if (!path)
		flags |= UKF_AT_EMPTY_PATH;
	return at_call(UKF_HC_UTIMENSAT, &u, &u.at, dirfd, path, flags,
		       flags & UKF_AT_EMPTY_PATH);
}

UKF_SYSCALL4(utimensat, int32_t, dirfd, uint64_t, path, uint64_t, times, int32_t, flags)
{
	if (flags & ~(UKF_AT_SYMLINK_NOFOLLOW | UKF_AT_EMPTY_PATH))
		return -EINVAL;
	if (times && !ukf_user_ok(times, 2 * sizeof(struct ukf_timespec)))
		return -EFAULT;
	if (!path && dirfd == UKF_AT_FDCWD)
		return -EFAULT;
	struct ukf_utime ts[2];
	if (times) {
		const struct ukf_timespec *u = UKF_UPTR(const struct ukf_timespec, times);
		ts[0] = (struct ukf_utime){ u[0].tv_sec, u[0].tv_nsec };
		ts[1] = (struct ukf_utime){ u[1].tv_sec, u[1].tv_nsec };
	}
	return utimens_call(dirfd, path, times ? ts : 0, flags);
}

/* A NULL path names dirfd itself, as Linux's do_utimes (EFAULT with
 * AT_FDCWD). */
UKF_SYSCALL3(futimesat, int32_t, dirfd, uint64_t, path, uint64_t, utimes)
{
	struct ukf_utime ts[2];
	if (!path && dirfd == UKF_AT_FDCWD)
		return -EFAULT;
	if (!utimes)
		return utimens_call(dirfd, path, 0, 0);
	if (!ukf_user_ok(utimes, 2 * sizeof(struct ukf_timeval)))
		return -EFAULT;
	const struct ukf_timeval *tv = UKF_UPTR(const struct ukf_timeval, utimes);
	for (int i = 0; i < 2; i++) {
		if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
			return -EINVAL;
		ts[i] = (struct ukf_utime){ tv[i].tv_sec, tv[i].tv_usec * 1000 };
	}
	return utimens_call(dirfd, path, ts, 0);
}

UKF_SYSCALL2(utimes, uint64_t, path, uint64_t, utimes)
{
	return do_futimesat(UKF_AT_FDCWD, path, utimes);
}

struct ukf_utimbuf { int64_t actime, modtime; };

UKF_SYSCALL2(utime, uint64_t, path, uint64_t, times)
{
	if (!times)
		return utimens_call(UKF_AT_FDCWD, path ? path : UKF_USER_BAD, 0, 0);
	if (!ukf_user_ok(times, sizeof(struct ukf_utimbuf)))
		return -EFAULT;
	const struct ukf_utimbuf *u = UKF_UPTR(const struct ukf_utimbuf, times);
	struct ukf_utime ts[2] = { { u->actime, 0 }, { u->modtime, 0 } };
	return utimens_call(UKF_AT_FDCWD, path ? path : UKF_USER_BAD, ts, 0);
}

UKF_SYSCALL3(fchmodat, int32_t, dirfd, uint64_t, path, uint32_t, mode)
{
	struct ukf_hc_fchmodat c = { .mode = mode };
	return at_call(UKF_HC_FCHMODAT, &c, &c.at, dirfd, path, 0, 0);
}

UKF_SYSCALL2(chmod, uint64_t, path, uint32_t, mode)
{
	return do_fchmodat(UKF_AT_FDCWD, path, mode);
}

UKF_SYSCALL2(fchmod, int32_t, fd, uint32_t, mode)
{
	struct ukf_hc_fchmodat c = { .at = { .dirfd = fd, .flags = UKF_AT_EMPTY_PATH }, .mode = mode };
	return ukf_hcall(UKF_HC_FCHMODAT, &c);
}

UKF_SYSCALL5(fchownat, int32_t, dirfd, uint64_t, path, uint32_t, uid, uint32_t, gid,
	     int32_t, flags)
{
	if (flags & ~(UKF_AT_SYMLINK_NOFOLLOW | UKF_AT_EMPTY_PATH))
		return -EINVAL;
	struct ukf_hc_fchownat c = { .uid = uid, .gid = gid };
	return at_call(UKF_HC_FCHOWNAT, &c, &c.at, dirfd, path, flags, flags & UKF_AT_EMPTY_PATH);
}

UKF_SYSCALL3(chown, uint64_t, path, uint32_t, uid, uint32_t, gid)
{
	return do_fchownat(UKF_AT_FDCWD, path, uid, gid, 0);
}

UKF_SYSCALL3(lchown, uint64_t, path, uint32_t, uid, uint32_t, gid)
{
	return do_fchownat(UKF_AT_FDCWD, path, uid, gid, UKF_AT_SYMLINK_NOFOLLOW);
}

UKF_SYSCALL3(fchown, int32_t, fd, uint32_t, uid, uint32_t, gid)
{
	struct ukf_hc_fchownat c = {
		.at = { .dirfd = fd, .flags = UKF_AT_EMPTY_PATH }, .uid = uid, .gid = gid,
	};
	return ukf_hcall(UKF_HC_FCHOWNAT, &c);
}

/* ---- statfs, fstatfs ----------------------------------------------------- */

/* The host describes the filesystem holding the file (the layer over the
 * image, a tmpfs, a volume's host filesystem) into the runtime's buffer;
 * it finds the file first (ENOENT, EBADF ... before EFAULT, as Linux). */
static int64_t statfs_of(int32_t dirfd, uint64_t path, int32_t flags, uint64_t ubuf)
{
	static struct ukf_statfs st;
	struct ukf_hc_statfs s = { .buf = (uint64_t)(uintptr_t)&st };
	int64_t r = at_call(UKF_HC_STATFS, &s, &s.at, dirfd, path, flags, flags & UKF_AT_EMPTY_PATH);
	if (r < 0)
		return r;
	if (!ukf_user_ok(ubuf, sizeof(struct ukf_statfs)))
		return -EFAULT;
	*UKF_UPTR(struct ukf_statfs, ubuf) = st;
	return 0;
}

UKF_SYSCALL2(statfs, uint64_t, path, uint64_t, ubuf)
{
	return statfs_of(UKF_AT_FDCWD, path, 0, ubuf);
}

UKF_SYSCALL2(fstatfs, int32_t, fd, uint64_t, ubuf)
{
	return statfs_of(fd, 0, UKF_AT_EMPTY_PATH, ubuf);
}

/* ---- Extended attributes ----------------------------------------------------
 * No file of the tree has any, as on a filesystem without them: a read is
 * ENODATA, a list is empty, a change EOPNOTSUPP; the file is looked up first
 * (ENOENT, EBADF), as Linux does. */

static int64_t xattr_file(int32_t dirfd, uint64_t path, int32_t flags)
{
	struct ukf_stat st;
	return fstatat_call(dirfd, path, flags, (uint64_t)(uintptr_t)&st);
}

static int64_t xattr_name(uint64_t name)
{
	int64_t n = ukf_user_strlen(name, 256);
	if (n == -ENAMETOOLONG || n == 0)
		return -ERANGE;
	return n < 0 ? n : 0;
}

static int64_t xattr_get(int32_t dirfd, uint64_t path, int32_t flags, uint64_t name)
{
	int64_t r = xattr_file(dirfd, path, flags);
	if (r == 0)
		r = xattr_name(name);
	return r < 0 ? r : -ENODATA;
}

static int64_t xattr_set(int32_t dirfd, uint64_t path, int32_t flags, uint64_t name)
{
	int64_t r = xattr_file(dirfd, path, flags);
	if (r == 0)
		r = xattr_name(name);
	return r < 0 ? r : -EOPNOTSUPP;
}

UKF_SYSCALL4(getxattr, uint64_t, path, uint64_t, name, uint64_t, value, uint64_t, size)
{
	(void)value, (void)size;
	return xattr_get(UKF_AT_FDCWD, path, 0, name);
}

UKF_SYSCALL4(lgetxattr, uint64_t, path, uint64_t, name, uint64_t, value, uint64_t, size)
{
	(void)value, (void)size;
	return xattr_get(UKF_AT_FDCWD, path, UKF_AT_SYMLINK_NOFOLLOW, name);
}

UKF_SYSCALL4(fgetxattr, int32_t, fd, uint64_t, name, uint64_t, value, uint64_t, size)
{
	(void)value, (void)size;
	return xattr_get(fd, 0, UKF_AT_EMPTY_PATH, name);
}

UKF_SYSCALL3(listxattr, uint64_t, path, uint64_t, list, uint64_t, size)
{
	(void)list, (void)size;
	return xattr_file(UKF_AT_FDCWD, path, 0);
}

UKF_SYSCALL3(llistxattr, uint64_t, path, uint64_t, list, uint64_t, size)
{
	(void)list, (void)size;
	return xattr_file(UKF_AT_FDCWD, path, UKF_AT_SYMLINK_NOFOLLOW);
}

UKF_SYSCALL3(flistxattr, int32_t, fd, uint64_t, list, uint64_t, size)
{
	(void)list, (void)size;
	return xattr_file(fd, 0, UKF_AT_EMPTY_PATH);
}

UKF_SYSCALL5(setxattr, uint64_t, path, uint64_t, name, uint64_t, value, uint64_t, size, int32_t, flags)
{
	(void)value, (void)size, (void)flags;
	return xattr_set(UKF_AT_FDCWD, path, 0, name);
}

UKF_SYSCALL5(lsetxattr, uint64_t, path, uint64_t, name, uint64_t, value, uint64_t, size, int32_t, flags)
{
	(void)value, (void)size, (void)flags;
	return xattr_set(UKF_AT_FDCWD, path, UKF_AT_SYMLINK_NOFOLLOW, name);
}

UKF_SYSCALL5(fsetxattr, int32_t, fd, uint64_t, name, uint64_t, value, uint64_t, size, int32_t, flags)
{
	(void)value, (void)size, (void)flags;
	return xattr_set(fd, 0, UKF_AT_EMPTY_PATH, name);
}

UKF_SYSCALL2(removexattr, uint64_t, path, uint64_t, name)
{
	return xattr_set(UKF_AT_FDCWD, path, 0, name);
}

UKF_SYSCALL2(lremovexattr, uint64_t, path, uint64_t, name)
{
	return xattr_set(UKF_AT_FDCWD, path, UKF_AT_SYMLINK_NOFOLLOW, name);
}

UKF_SYSCALL2(fremovexattr, int32_t, fd, uint64_t, name)
{
	return xattr_set(fd, 0, UKF_AT_EMPTY_PATH, name);
}
