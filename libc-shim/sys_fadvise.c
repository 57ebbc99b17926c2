/* fadvise64: advice on how a file will be read. The image's files are in
 * the host's page cache already; the advice is checked as Linux does and
 * needs nothing more. */
#include "shim.h"

#define POSIX_FADV_NOREUSE 5
#define S_IFMT 0170000
#define S_IFIFO 0010000
#define S_IFSOCK 0140000

UKF_SYSCALL4(fadvise64, int32_t, fd, int64_t, offset, int64_t, len, int32_t, advice)
{
	(void)offset;
	struct ukf_stat st;
	struct ukf_hc_fstatat s = {
		.at = { .dirfd = fd, .flags = UKF_AT_EMPTY_PATH },
		.statbuf = (uint64_t)(uintptr_t)&st,
	};
	if (fd < 0)
		return -EBADF;
	int64_t r = ukf_hcall(UKF_HC_FSTATAT, &s);
	if (r < 0)
		return r;
	uint32_t type = st.st_mode & S_IFMT;
	if (type == S_IFIFO || type == S_IFSOCK)
		return -ESPIPE;
	if (len < 0 || advice < 0 || advice > POSIX_FADV_NOREUSE)
		return -EINVAL;
	return 0;
}
