/* Descriptor syscalls: pipe, pipe2, dup, dup2, dup3, fcntl. The fd table
 * lives on the host, shared across fork as Linux shares it. */
#include "shim.h"

static int64_t hc_fd(unsigned hc, int32_t fd, int64_t arg0, int64_t arg1, uint64_t buf)
{
	struct ukf_hc_fd f = { .fd = fd, .arg0 = arg0, .arg1 = arg1, .buf = buf };
	return ukf_hcall(hc, &f);
}

/* The host checks the flags before the array, as Linux. */
UKF_SYSCALL2(pipe2, uint64_t, fds, int32_t, flags)
{
	return hc_fd(UKF_HC_PIPE, -1, flags, 0, ukf_user_arg(fds, 8));
}

UKF_SYSCALL1(pipe, uint64_t, fds)
{
	return do_pipe2(fds, 0);
}

UKF_SYSCALL1(dup, int32_t, fd) { return hc_fd(UKF_HC_DUP, fd, 0, 0, 0); }

UKF_SYSCALL2(dup2, int32_t, fd, int32_t, newfd)
{
	return hc_fd(UKF_HC_DUP, fd, newfd, UKF_DUP_TO, 0);
}

#define UKF_O_CLOEXEC 02000000
UKF_SYSCALL3(dup3, int32_t, fd, int32_t, newfd, int32_t, flags)
{
	if (flags & ~UKF_O_CLOEXEC)
		return -EINVAL;
	if (fd == newfd)
		return -EINVAL;
	return hc_fd(UKF_HC_DUP, fd, newfd,
		     UKF_DUP_TO | ((flags & UKF_O_CLOEXEC) ? UKF_DUP_CLOEXEC : 0), 0);
}

UKF_SYSCALL3(fcntl, int32_t, fd, int32_t, cmd, uint64_t, arg)
{
	return hc_fd(UKF_HC_FCNTL, fd, cmd, (int64_t)arg, 0);
}
