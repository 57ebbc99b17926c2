/* Socket syscalls: host sockets shared across VMs like other descriptors.
 * Each call checks its pointers and becomes one UKF_HC_SOCKET hypercall;
 * sendto/recvfrom go as sendmsg/recvmsg with a one-buffer message. */
#include "shim.h"

struct msghdr_k {
	uint64_t name;
	uint32_t namelen, pad;
	uint64_t iov, iovlen, control, controllen;
	int32_t flags, pad2;
};

static int64_t sock(int32_t op, int32_t fd, int64_t a0, int64_t a1, int64_t a2,
		    uint64_t addr, uint64_t addrlen, uint64_t buf, uint64_t len)
{
	struct ukf_hc_sock s = {
		.op = op, .fd = fd, .a = { a0, a1, a2 },
		.addr = addr, .addrlen = addrlen, .buf = buf, .len = len,
	};
	return ukf_hcall(UKF_HC_SOCKET, &s);
}

UKF_SYSCALL3(socket, int32_t, domain, int32_t, type, int32_t, proto)
{
	return sock(UKF_SOCK_SOCKET, -1, domain, type, proto, 0, 0, 0, 0);
}

UKF_SYSCALL4(socketpair, int32_t, domain, int32_t, type, int32_t, proto, uint64_t, sv)
{
	if (!ukf_user_ok(sv, 8))
		return -EFAULT;
	return sock(UKF_SOCK_SOCKETPAIR, -1, domain, type, proto, 0, 0, sv, 8);
}

static int64_t addr_in(uint32_t op, int32_t fd, uint64_t addr, uint32_t len)
{
	if (!ukf_user_ok(addr, len))
		return -EFAULT;
	return sock(op, fd, 0, 0, 0, addr, len, 0, 0);
}

UKF_SYSCALL3(bind, int32_t, fd, uint64_t, addr, uint32_t, len) { return addr_in(UKF_SOCK_BIND, fd, addr, len); }
UKF_SYSCALL3(connect, int32_t, fd, uint64_t, addr, uint32_t, len) { return addr_in(UKF_SOCK_CONNECT, fd, addr, len); }
UKF_SYSCALL2(listen, int32_t, fd, int32_t, backlog) { return sock(UKF_SOCK_LISTEN, fd, backlog, 0, 0, 0, 0, 0, 0); }

/* addr and lenp may both be 0; otherwise *lenp is the room at addr. */
static int64_t addr_out(uint32_t op, int32_t fd, int64_t a0, uint64_t addr, uint64_t lenp)
{
	if (addr || lenp) {
		if (!ukf_user_ok(lenp, 4))
			return -EFAULT;
		if (!ukf_user_ok(addr, *UKF_UPTR(uint32_t, lenp)))
			return -EFAULT;
	}
	return sock(op, fd, a0, 0, 0, addr, lenp, 0, 0);
}

UKF_SYSCALL4(accept4, int32_t, fd, uint64_t, addr, uint64_t, lenp, int32_t, flags)
{
	return addr_out(UKF_SOCK_ACCEPT, fd, flags, addr, lenp);
}

UKF_SYSCALL3(accept, int32_t, fd, uint64_t, addr, uint64_t, lenp)
{
	return addr_out(UKF_SOCK_ACCEPT, fd, 0, addr, lenp);
}

UKF_SYSCALL3(getsockname, int32_t, fd, uint64_t, addr, uint64_t, lenp)
{
	if (!addr || !lenp)
		return -EFAULT;
	return addr_out(UKF_SOCK_GETSOCKNAME, fd, 0, addr, lenp);
}

UKF_SYSCALL3(getpeername, int32_t, fd, uint64_t, addr, uint64_t, lenp)
{
	if (!addr || !lenp)
		return -EFAULT;
	return addr_out(UKF_SOCK_GETPEERNAME, fd, 0, addr, lenp);
}

UKF_SYSCALL5(setsockopt, int32_t, fd, int32_t, level, int32_t, name, uint64_t, val, uint32_t, len)
{
	if (!ukf_user_ok(val, len))
		return -EFAULT;
	return sock(UKF_SOCK_SETSOCKOPT, fd, level, name, 0, 0, 0, val, len);
}

UKF_SYSCALL5(getsockopt, int32_t, fd, int32_t, level, int32_t, name, uint64_t, val, uint64_t, lenp)
{
	if (!ukf_user_ok(lenp, 4) || !ukf_user_ok(val, *UKF_UPTR(uint32_t, lenp)))
		return -EFAULT;
	return sock(UKF_SOCK_GETSOCKOPT, fd, level, name, 0, 0, lenp, val, 0);
}

UKF_SYSCALL2(shutdown, int32_t, fd, int32_t, how)
{
	if (how < 0 || how > 2)
		return -EINVAL;
	return sock(UKF_SOCK_SHUTDOWN, fd, how, 0, 0, 0, 0, 0, 0);
}

UKF_SYSCALL3(sendmsg, int32_t, fd, uint64_t, msg, int32_t, flags)
{
	if (!ukf_user_ok(msg, sizeof(struct msghdr_k)))
		return -EFAULT;
	return sock(UKF_SOCK_SENDMSG, fd, flags, 0, 0, 0, 0, msg, 0);
}

UKF_SYSCALL3(recvmsg, int32_t, fd, uint64_t, msg, int32_t, flags)
{
	if (!ukf_user_ok(msg, sizeof(struct msghdr_k)))
		return -EFAULT;
	return sock(UKF_SOCK_RECVMSG, fd, flags, 0, 0, 0, 0, msg, 0);
}

UKF_SYSCALL6(sendto, int32_t, fd, uint64_t, buf, uint64_t, len, int32_t, flags,
	     uint64_t, addr, uint32_t, alen)
{
	if (!ukf_user_ok(buf, len) || (addr && !ukf_user_ok(addr, alen)))
		return -EFAULT;
	struct ukf_iovec iov = { .base = buf, .len = len };
	struct msghdr_k m = {
		.name = addr, .namelen = addr ? alen : 0,
		.iov = (uint64_t)(uintptr_t)&iov, .iovlen = 1,
	};
	return sock(UKF_SOCK_SENDMSG, fd, flags, 0, 0, 0, 0, (uint64_t)(uintptr_t)&m, 0);
}

UKF_SYSCALL6(recvfrom, int32_t, fd, uint64_t, buf, uint64_t, len, int32_t, flags,
	     uint64_t, addr, uint64_t, lenp)
{
	if (!ukf_user_ok(buf, len))
		return -EFAULT;
	uint32_t room = 0;
	if (addr) {
		if (!ukf_user_ok(lenp, 4))
			return -EFAULT;
		room = *UKF_UPTR(uint32_t, lenp);
		if (!ukf_user_ok(addr, room))
			return -EFAULT;
	}
	struct ukf_iovec iov = { .base = buf, .len = len };
	struct msghdr_k m = {
		.name = addr, .namelen = room,
		.iov = (uint64_t)(uintptr_t)&iov, .iovlen = 1,
	};
	int64_t r = sock(UKF_SOCK_RECVMSG, fd, flags, 0, 0, 0, 0, (uint64_t)(uintptr_t)&m, 0);
	if (r >= 0 && addr)
		*UKF_UPTR(uint32_t, lenp) = m.namelen;
	return r;
}

UKF_SYSCALL4(sendfile, int32_t, out, int32_t, in, uint64_t, offp, uint64_t, count)
{
	int64_t off = -1;
	if (offp) {
		if (!ukf_user_ok(offp, 8))
			return -EFAULT;
		off = *UKF_UPTR(int64_t, offp);
		if (off < 0)
			return -EINVAL;
	}
	struct ukf_hc_fd f = { .fd = out, .arg0 = in, .arg1 = off, .len = count };
	int64_t r = ukf_hcall(UKF_HC_SENDFILE, &f);
	if (r > 0 && offp)
		*UKF_UPTR(int64_t, offp) = off + r;
	return r;
}
