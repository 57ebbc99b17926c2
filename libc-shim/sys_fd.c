/* Descriptor syscalls: pipe, pipe2, dup, dup2, dup3, fcntl. The fd table
 * lives on the host, shared across fork as Linux shares it. */
#include "shim.h"

/* The host checks the flags before the array, as Linux. */
UKF_SYSCALL2(pipe2, uint64_t, fds, int32_t, flags)
{
	struct ukf_hc_pipe p = { .flags = flags, .fds = ukf_user_arg(fds, 8) };
	return ukf_hcall(UKF_HC_PIPE, &p);
}

UKF_SYSCALL1(pipe, uint64_t, fds)
{
	return do_pipe2(fds, 0);
}

static int64_t hc_dup(int32_t fd, int32_t newfd, uint32_t mode)
{
	struct ukf_hc_dup d = { .fd = fd, .newfd = newfd, .mode = mode };
	return ukf_hcall(UKF_HC_DUP, &d);
}

UKF_SYSCALL1(dup, int32_t, fd) { return hc_dup(fd, 0, 0); }

UKF_SYSCALL2(dup2, int32_t, fd, int32_t, newfd)
{
	return hc_dup(fd, newfd, UKF_DUP_TO);
}

#define UKF_O_CLOEXEC 02000000
UKF_SYSCALL3(dup3, int32_t, fd, int32_t, newfd, int32_t, flags)
{
	if (flags & ~UKF_O_CLOEXEC)
		return -EINVAL;
	if (fd == newfd)
		return -EINVAL;
	return hc_dup(fd, newfd, UKF_DUP_TO | ((flags & UKF_O_CLOEXEC) ? UKF_DUP_CLOEXEC : 0));
}

#define UKF_F_GETLK      5
#define UKF_F_SETLKW     7
#define UKF_F_OFD_GETLK  36
#define UKF_F_OFD_SETLKW 38
#define UKF_FLOCK_SIZE   32 /* struct flock on x86-64 */
#define UKF_F_SETOWN_EX 15
#define UKF_F_GETOWN_EX 16
UKF_SYSCALL3(fcntl, int32_t, fd, int32_t, cmd, uint64_t, arg)
{
	/* struct f_owner_ex and struct flock: the host checks the fd first,
	 * then them. */
	if (cmd == UKF_F_SETOWN_EX || cmd == UKF_F_GETOWN_EX)
		arg = ukf_user_arg(arg, 8);
	else if ((cmd >= UKF_F_GETLK && cmd <= UKF_F_SETLKW) ||
		 (cmd >= UKF_F_OFD_GETLK && cmd <= UKF_F_OFD_SETLKW))
		arg = ukf_user_arg(arg, UKF_FLOCK_SIZE);
	struct ukf_hc_fcntl f = { .fd = fd, .cmd = cmd, .arg = arg };
	return ukf_hcall(UKF_HC_FCNTL, &f);
}

UKF_SYSCALL2(flock, int32_t, fd, int32_t, op)
{
	struct ukf_hc_fcntl f = { .fd = fd, .cmd = UKF_F_FLOCK, .arg = (uint64_t)(uint32_t)op };
	return ukf_hcall(UKF_HC_FCNTL, &f);
}
