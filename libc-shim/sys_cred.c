/* Credentials: real, effective, saved and file-system uids and gids, and
 * supplementary groups, with Linux's rules for who may change them. They
 * live in the guest: a process is a VM, fork copies them and exec keeps
 * them. An effective uid 0 holds every capability (CAP_SETUID, CAP_SETGID
 * among them), as for root without user namespaces. */
#include "shim.h"

#define NGROUPS_MAX 65536 /* Linux's limit on setgroups' size */
#define NOCHANGE    0xffffffffu

struct ukf_cred ukf_cred;

/* Publish the ids in the boot page, where the host checks prlimit64 on
 * this process against them, and file access against the file-system ids
 * and the groups; passes r through. */
static int64_t published(int64_t r)
{
	for (int i = 0; i < 3; i++) {
		__atomic_store_n(&ukf_boot->cred_uid[i], (&ukf_cred.ruid)[i], __ATOMIC_RELAXED);
		__atomic_store_n(&ukf_boot->cred_gid[i], (&ukf_cred.rgid)[i], __ATOMIC_RELAXED);
	}
	ukf_boot->fsuid = ukf_cred.fsuid;
	ukf_boot->fsgid = ukf_cred.fsgid;
	ukf_boot->ngroups = ukf_cred.ngroups;
	memcpy(ukf_boot->groups, ukf_cred.groups, ukf_cred.ngroups * sizeof(uint32_t));
	return r;
}

void ukf_cred_init(void)
{
	uint32_t u = ukf_boot->uid, g = ukf_boot->gid;
	ukf_cred = (struct ukf_cred){ u, u, u, u, g, g, g, g, 0, { 0 } };
	uint32_t n = ukf_boot->ngroups;
	if (n > UKF_NGROUPS_BOOT)
		n = UKF_NGROUPS_BOOT;
	memcpy(ukf_cred.groups, ukf_boot->groups, n * sizeof(uint32_t));
	ukf_cred.ngroups = n;
	published(0);
}

static int privileged(void) { return ukf_cred.euid == 0; }

UKF_SYSCALL0(getuid) { return ukf_cred.ruid; }
UKF_SYSCALL0(geteuid) { return ukf_cred.euid; }
UKF_SYSCALL0(getgid) { return ukf_cred.rgid; }
UKF_SYSCALL0(getegid) { return ukf_cred.egid; }

static int64_t put3(uint64_t r, uint64_t e, uint64_t s, const uint32_t *ids)
{
	if (!ukf_user_ok(r, 4) || !ukf_user_ok(e, 4) || !ukf_user_ok(s, 4))
		return -EFAULT;
	*UKF_UPTR(uint32_t, r) = ids[0];
	*UKF_UPTR(uint32_t, e) = ids[1];
	*UKF_UPTR(uint32_t, s) = ids[2];
	return 0;
}

UKF_SYSCALL3(getresuid, uint64_t, r, uint64_t, e, uint64_t, s)
{
	return put3(r, e, s, &ukf_cred.ruid);
}

UKF_SYSCALL3(getresgid, uint64_t, r, uint64_t, e, uint64_t, s)
{
	return put3(r, e, s, &ukf_cred.rgid);
}

/* ids points at {real, effective, saved, fs}: one set of rules for uids
 * and gids. An unprivileged process may only move each to one of its
 * current three. */
static int one_of(const uint32_t *ids, uint32_t v)
{
	return v == ids[0] || v == ids[1] || v == ids[2];
}

static int64_t setres(uint32_t *ids, uint32_t r, uint32_t e, uint32_t s)
{
	if (!privileged() && ((r != NOCHANGE && !one_of(ids, r)) ||
			      (e != NOCHANGE && !one_of(ids, e)) ||
			      (s != NOCHANGE && !one_of(ids, s))))
		return -EPERM;
	if (r != NOCHANGE)
		ids[0] = r;
	if (e != NOCHANGE)
		ids[1] = e;
	if (s != NOCHANGE)
		ids[2] = s;
	ids[3] = ids[1]; /* the fs id follows the effective one */
	return 0;
}

/* setreuid(2): the saved id becomes the new effective one when the real
 * one is set, or the effective one is set to other than the old real. */
static int64_t setre(uint32_t *ids, uint32_t r, uint32_t e)
{
	if (!privileged() && ((r != NOCHANGE && r != ids[0] && r != ids[1]) ||
			      (e != NOCHANGE && !one_of(ids, e))))
		return -EPERM;
	uint32_t old_r = ids[0];
	if (r != NOCHANGE)
		ids[0] = r;
	if (e != NOCHANGE)
		ids[1] = e;
	if (r != NOCHANGE || (e != NOCHANGE && e != old_r))
		ids[2] = ids[1];
	ids[3] = ids[1];
	return 0;
}

/* setuid(2): privileged, all three; else the effective one, to the real
 * or saved one. */
static int64_t set1(uint32_t *ids, uint32_t v)
{
	if (v == NOCHANGE)
		return -EINVAL;
	if (privileged())
		return setres(ids, v, v, v);
	if (v != ids[0] && v != ids[2])
		return -EPERM;
	ids[1] = ids[3] = v;
	return 0;
}

/* The gid calls check the privilege the uid set gives. */
UKF_SYSCALL1(setuid, uint32_t, uid) { return published(set1(&ukf_cred.ruid, uid)); }
UKF_SYSCALL1(setgid, uint32_t, gid) { return published(set1(&ukf_cred.rgid, gid)); }
UKF_SYSCALL2(setreuid, uint32_t, r, uint32_t, e) { return published(setre(&ukf_cred.ruid, r, e)); }
UKF_SYSCALL2(setregid, uint32_t, r, uint32_t, e) { return published(setre(&ukf_cred.rgid, r, e)); }

UKF_SYSCALL3(setresuid, uint32_t, r, uint32_t, e, uint32_t, s)
{
	return published(setres(&ukf_cred.ruid, r, e, s));
}

UKF_SYSCALL3(setresgid, uint32_t, r, uint32_t, e, uint32_t, s)
{
	return published(setres(&ukf_cred.rgid, r, e, s));
}

/* setfsuid/setfsgid return the old value whether or not they changed it. */
static int64_t setfs(uint32_t *ids, uint32_t v)
{
	uint32_t old = ids[3];
	if (privileged() || one_of(ids, v) || v == ids[3])
		ids[3] = v;
	return old;
}

UKF_SYSCALL1(setfsuid, uint32_t, uid) { return published(setfs(&ukf_cred.ruid, uid)); }
UKF_SYSCALL1(setfsgid, uint32_t, gid) { return published(setfs(&ukf_cred.rgid, gid)); }

UKF_SYSCALL2(getgroups, int32_t, size, uint64_t, list)
{
	if (size < 0)
		return -EINVAL;
	if (size == 0)
		return ukf_cred.ngroups;
	if ((uint32_t)size < ukf_cred.ngroups)
		return -EINVAL;
	if (!ukf_user_ok(list, ukf_cred.ngroups * 4))
		return -EFAULT;
	memcpy(UKF_UPTR(void, list), ukf_cred.groups, ukf_cred.ngroups * 4);
	return ukf_cred.ngroups;
}

UKF_SYSCALL2(setgroups, int32_t, size, uint64_t, list)
{
	if (size < 0 || size > NGROUPS_MAX)
		return -EINVAL;
	if (!privileged())
		return -EPERM;
	if (size > UKF_NGROUPS_BOOT)
		return -ENOMEM; /* more groups than a process here can hold */
	if (!ukf_user_ok(list, (uint64_t)size * 4))
		return -EFAULT;
	memcpy(ukf_cred.groups, UKF_UPTR(const void, list), (uint64_t)size * 4);
	ukf_cred.ngroups = (uint32_t)size;
	return published(0);
}
