/* Notification descriptors: eventfd and timerfd, host ones. */
#include "shim.h"

#define UKF_ITIMERSPEC_SIZE 32

UKF_SYSCALL2(eventfd2, uint32_t, initval, int32_t, flags)
{
	struct ukf_hc_eventfd e = { .initval = initval, .flags = (uint32_t)flags };
	return ukf_hcall(UKF_HC_EVENTFD, &e);
}

UKF_SYSCALL1(eventfd, uint32_t, initval)
{
	struct ukf_hc_eventfd e = { .initval = initval };
	return ukf_hcall(UKF_HC_EVENTFD, &e);
}

UKF_SYSCALL2(timerfd_create, int32_t, clockid, int32_t, flags)
{
	struct ukf_hc_timerfd t = { .op = UKF_TIMERFD_CREATE, .fd = clockid, .flags = (uint32_t)flags };
	return ukf_hcall(UKF_HC_TIMERFD, &t);
}

UKF_SYSCALL4(timerfd_settime, int32_t, fd, int32_t, flags, uint64_t, new_value, uint64_t, old_value)
{
	struct ukf_hc_timerfd t = {
		.op = UKF_TIMERFD_SET, .fd = fd, .flags = (uint32_t)flags,
		.new_value = ukf_user_arg(new_value, UKF_ITIMERSPEC_SIZE),
		.old_value = old_value ? ukf_user_arg(old_value, UKF_ITIMERSPEC_SIZE) : 0,
	};
	return ukf_hcall(UKF_HC_TIMERFD, &t);
}

UKF_SYSCALL2(timerfd_gettime, int32_t, fd, uint64_t, cur)
{
	struct ukf_hc_timerfd t = { .op = UKF_TIMERFD_GET, .fd = fd, .old_value = ukf_user_arg(cur, UKF_ITIMERSPEC_SIZE) };
	return ukf_hcall(UKF_HC_TIMERFD, &t);
}
