/* Memory shared by name between processes: memfd_create and System V
 * shared memory (shmat and shmdt map, in sys_mm.c). */
#include "shim.h"

#define MEMFD_NAME_MAX 249

UKF_SYSCALL2(memfd_create, uint64_t, name, uint32_t, flags)
{
	/* Linux takes NAME_MAX - strlen("memfd:") bytes, then EINVAL. */
	int64_t n = ukf_user_strlen(name, MEMFD_NAME_MAX + 1);
	if (n == -ENAMETOOLONG)
		return -EINVAL;
	if (n < 0)
		return n;
	struct ukf_hc_memfd h = { .name = name, .namelen = (uint64_t)n, .flags = flags };
	return ukf_hcall(UKF_HC_MEMFD, &h);
}

UKF_SYSCALL3(shmget, int32_t, key, uint64_t, size, int32_t, flags)
{
	struct ukf_hc_ipc h = { .op = UKF_IPC_SHMGET, .key = key, .size = size, .flags = flags };
	return ukf_hcall(UKF_HC_IPC, &h);
}

UKF_SYSCALL3(shmctl, int32_t, id, int32_t, cmd, uint64_t, buf)
{
	struct ukf_hc_ipc h = { .op = UKF_IPC_SHMCTL, .id = id, .flags = cmd, .buf = buf };
	return ukf_hcall(UKF_HC_IPC, &h);
}
