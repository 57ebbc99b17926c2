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

/* The host answers TCGETS and TIOCGWINSZ (for isatty and terminal width),
 * FIONREAD, and the requests Linux serves for any fd (FIONBIO, FIOCLEX,
 * FIONCLEX); ENOTTY to everything else. */
#define UKF_TCGETS     0x5401
#define UKF_TIOCGWINSZ 0x5413
#define UKF_FIONREAD   0x541b
#define UKF_FIONBIO    0x5421
UKF_SYSCALL3(ioctl, int32_t, fd, uint32_t, req, uint64_t, arg)
{
	uint64_t need = req == UKF_TCGETS ? 36 : req == UKF_TIOCGWINSZ ? 8 :
			(req == UKF_FIONREAD || req == UKF_FIONBIO) ? 4 : 0;
	/* The host checks the fd first, then the buffer. */
	struct ukf_hc_ioctl i = { .fd = fd, .request = req, .arg = ukf_user_arg(arg, need) };
	return ukf_hcall(UKF_HC_IOCTL, &i);
}

/* ---- Calls that name a path ------------------------------------------------- */

/* Fill in *at (inside args) and forward path call hc. An empty path is
 * ENOENT unless empty_ok (the call's AT_EMPTY_PATH), which also allows a NULL
 * path, as Linux 6.11 does. */
static int64_t at_call(unsigned hc, void *args, struct ukf_at *at, int32_t dirfd,
		       uint64_t upath, int32_t flags, int empty_ok)
{
	int64_t n = 0;

	if (upath || !empty_ok) {
		n = ukf_user_path(upath);
		/* A bad path reaches the host, which checks the flags first. */
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

/* The image is read-only: these fail as on a read-only file system, except
 * unlink of a socket the program bound (its name goes). */
#define UKF_AT_REMOVEDIR 0x200

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

/* mkdir and friends: EEXIST for what exists, EROFS for the rest. */
static int64_t create_at(int32_t dirfd, uint64_t path)
{
	struct ukf_stat st;
	int64_t r = fstatat_call(dirfd, path, UKF_AT_SYMLINK_NOFOLLOW,
				 (uint64_t)(uintptr_t)&st);
	if (r == 0)
		return -EEXIST;
	return r == -ENOENT ? -EROFS : r;
}

UKF_SYSCALL2(mkdir, uint64_t, path, uint32_t, mode) { (void)mode; return create_at(UKF_AT_FDCWD, path); }
UKF_SYSCALL3(mkdirat, int32_t, dirfd, uint64_t, path, uint32_t, mode) { (void)mode; return create_at(dirfd, path); }
/* rename: Linux reads both names first; then EROFS if the old one exists. */
UKF_SYSCALL2(rename, uint64_t, from, uint64_t, to)
{
	int64_t r = ukf_user_path(to);
	if (r < 0)
		return r;
	r = create_at(UKF_AT_FDCWD, from);
	return r == -EEXIST ? -EROFS : r == -EROFS ? -ENOENT : r;
}

/* ---- statfs, fstatfs ----------------------------------------------------- */

struct ukf_statfs {
	int64_t f_type, f_bsize;
	uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
	int32_t f_fsid[2];
	int64_t f_namelen, f_frsize, f_flags;
	int64_t f_spare[4];
};

#define UKF_RAMFS_MAGIC 0x858458f6
#define UKF_ST_RDONLY   1

/* The tree is the image's, read-only and in memory: statfs says so. The
 * host finds the file first (ENOENT, EBADF ... before EFAULT, as Linux). */
static int64_t statfs_of(int32_t dirfd, uint64_t path, int32_t flags, uint64_t ubuf)
{
	static struct ukf_stat st; /* the runtime's own: only existence matters */
	int64_t r = fstatat_call(dirfd, path, flags, (uint64_t)(uintptr_t)&st);
	if (r < 0)
		return r;
	if (!ukf_user_ok(ubuf, sizeof(struct ukf_statfs)))
		return -EFAULT;
	*UKF_UPTR(struct ukf_statfs, ubuf) = (struct ukf_statfs){
		.f_type = UKF_RAMFS_MAGIC, .f_bsize = 4096, .f_frsize = 4096,
		.f_namelen = 255, .f_flags = UKF_ST_RDONLY,
	};
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
