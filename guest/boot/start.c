/* Runtime boot: check what the host handed over, then run the program. */
#include "ukfork/guest.h"

void ukf_main(void);

void ukf_main(void)
{
	if (ukf_boot->magic != UKF_BOOT_MAGIC ||
	    ukf_boot->abi_version != UKF_ABI_VERSION)
		ukf_panic("boot information missing or from another ABI version");
	ukf_exec_initial();
}

void ukf_console(const char *s, size_t n)
{
	struct ukf_iovec iov = { .base = (uint64_t)(uintptr_t)s, .len = n };
	struct ukf_hc_rw rw = { .fd = 2, .iov = (uint64_t)(uintptr_t)&iov, .iovcnt = 1 };
	ukf_hcall(UKF_HC_WRITEV, &rw);
}

void ukf_exit(int status)
{
	struct ukf_hc_exit e = { .status = status & 0xff };
	for (;;)
		ukf_hcall(UKF_HC_EXIT, &e);
}

/* End the process as if killed by sig (no core, no handler). */
void ukf_die(int sig)
{
	struct ukf_hc_exit e = { .signal = sig };
	for (;;)
		ukf_hcall(UKF_HC_EXIT, &e);
}

void ukf_panic(const char *msg)
{
	static const char prefix[] = "ukfork runtime: ";
	ukf_console(prefix, sizeof(prefix) - 1);
	ukf_console(msg, strlen(msg));
	ukf_console("\n", 1);
	ukf_exit(127);
}
