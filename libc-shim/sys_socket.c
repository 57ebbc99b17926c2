/* Socket syscalls: host sockets shared across VMs like other descriptors.
 * Each call checks its pointers and becomes one UKF_HC_SOCKET hypercall;
 * sendto/recvfrom go as sendmsg/recvmsg with a one-buffer message. The host
 * checks the fd first, as Linux does, so a bad pointer reaches it as
 * UKF_USER_BAD and becomes EFAULT there. */
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
	/* Linux writes the two fds before it makes the sockets: EFAULT
	 * before the domain and type are looked at. */
	if (!ukf_user_ok(sv, 8))
		return -EFAULT;
	return sock(UKF_SOCK_SOCKETPAIR, -1, domain, type, proto, 0, 0, sv, 8);
}

static int64_t addr_in(uint32_t op, int32_t fd, uint64_t addr, uint32_t len)
{
	return sock(op, fd, 0, 0, 0, ukf_user_arg(addr, len), len, 0, 0);
}

UKF_SYSCALL3(bind, int32_t, fd, uint64_t, addr, uint32_t, len) { return addr_in(UKF_SOCK_BIND, fd, addr, len); }
UKF_SYSCALL3(connect, int32_t, fd, uint64_t, addr, uint32_t, len) { return addr_in(UKF_SOCK_CONNECT, fd, addr, len); }
UKF_SYSCALL2(listen, int32_t, fd, int32_t, backlog) { return sock(UKF_SOCK_LISTEN, fd, backlog, 0, 0, 0, 0, 0, 0); }

/* addr and lenp may both be 0 (accept); otherwise *lenp is the room at addr. */
static int64_t addr_out(uint32_t op, int32_t fd, int64_t a0, uint64_t addr, uint64_t lenp)
{
	if (addr || lenp) {
		if (ukf_user_ok(lenp, 4))
			addr = addr ? ukf_user_arg(addr, *UKF_UPTR(uint32_t, lenp)) : 0;
		else
			lenp = UKF_USER_BAD;
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

/* Linux writes the name through both pointers: NULL ones are EFAULT. */
UKF_SYSCALL3(getsockname, int32_t, fd, uint64_t, addr, uint64_t, lenp)
{
	return addr_out(UKF_SOCK_GETSOCKNAME, fd, 0, addr ? addr : UKF_USER_BAD,
			lenp ? lenp : UKF_USER_BAD);
}

UKF_SYSCALL3(getpeername, int32_t, fd, uint64_t, addr, uint64_t, lenp)
{
	return addr_out(UKF_SOCK_GETPEERNAME, fd, 0, addr ? addr : UKF_USER_BAD,
			lenp ? lenp : UKF_USER_BAD);
}

UKF_SYSCALL5(setsockopt, int32_t, fd, int32_t, level, int32_t, name, uint64_t, val, uint32_t, len)
{
	return sock(UKF_SOCK_SETSOCKOPT, fd, level, name, 0, 0, 0, ukf_user_arg(val, len), len);
}

UKF_SYSCALL5(getsockopt, int32_t, fd, int32_t, level, int32_t, name, uint64_t, val, uint64_t, lenp)
{
	if (ukf_user_ok(lenp, 4))
		val = ukf_user_arg(val, *UKF_UPTR(uint32_t, lenp));
	else
		lenp = UKF_USER_BAD;
	return sock(UKF_SOCK_GETSOCKOPT, fd, level, name, 0, 0, lenp, val, 0);
}

UKF_SYSCALL2(shutdown, int32_t, fd, int32_t, how)
{
	if (how < 0 || how > 2)
		return -EINVAL;
	return sock(UKF_SOCK_SHUTDOWN, fd, how, 0, 0, 0, 0, 0, 0);
}

/* The host reads the header and what it points at, checked against RAM
 * only: the name, the vector and its buffers and the control data must be
 * program memory, else the header is UKF_USER_BAD. */
static uint64_t user_msg(uint64_t msg)
{
	if (!ukf_user_ok(msg, sizeof(struct msghdr_k)))
		return UKF_USER_BAD;
	const struct msghdr_k *h = UKF_UPTR(const struct msghdr_k, msg);
	if ((h->name && !ukf_user_ok(h->name, h->namelen)) ||
	    ukf_user_vec(h->iov, h->iovlen) == UKF_USER_BAD ||
	    (h->control && !ukf_user_ok(h->control, h->controllen)))
		return UKF_USER_BAD;
	return msg;
}

UKF_SYSCALL3(sendmsg, int32_t, fd, uint64_t, msg, int32_t, flags)
{
	return sock(UKF_SOCK_SENDMSG, fd, flags, 0, 0, 0, 0, user_msg(msg), 0);
}

UKF_SYSCALL3(recvmsg, int32_t, fd, uint64_t, msg, int32_t, flags)
{
	return sock(UKF_SOCK_RECVMSG, fd, flags, 0, 0, 0, 0, user_msg(msg), 0);
}

UKF_SYSCALL6(sendto, int32_t, fd, uint64_t, buf, uint64_t, len, int32_t, flags,
	     uint64_t, addr, uint32_t, alen)
{
	/* Linux checks the buffer before the fd, and cuts it at the end of RAM. */
	int64_t n = ukf_user_span(buf, len);
	if (n < 0)
		return n;
	struct ukf_iovec iov = { .base = buf, .len = (uint64_t)n };
	addr = addr ? ukf_user_arg(addr, alen) : 0;
	struct msghdr_k m = {
		.name = addr, .namelen = addr ? alen : 0,
		.iov = (uint64_t)(uintptr_t)&iov, .iovlen = 1,
	};
	return sock(UKF_SOCK_SENDMSG, fd, flags, 0, 0, 0, 0, (uint64_t)(uintptr_t)&m, 0);
}

UKF_SYSCALL6(recvfrom, int32_t, fd, uint64_t, buf, uint64_t, len, int32_t, flags,
	     uint64_t, addr, uint64_t, lenp)
{
	int64_t n = ukf_user_span(buf, len);
	if (n < 0)
		return n;
	uint32_t room = 0;
	if (addr) {
		if (!ukf_user_ok(lenp, 4))
			return -EFAULT;
		room = *UKF_UPTR(uint32_t, lenp);
		if (!ukf_user_ok(addr, room))
			return -EFAULT;
	}
	struct ukf_iovec iov = { .base = buf, .len = (uint64_t)n };
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
	struct ukf_hc_sendfile s = { .out_fd = out, .in_fd = in, .offset = off, .count = count };
	int64_t r = ukf_hcall(UKF_HC_SENDFILE, &s);
	if (r > 0 && offp)
		*UKF_UPTR(int64_t, offp) = off + r;
	return r;
}
