/* execve: replace the program running in this VM. Everything that can fail
 * is checked first (path, permission, format, size), so a failing execve
 * returns to the old program; then its memory goes back to the host and the
 * new program is loaded as at boot. #! scripts run their interpreter. */
#include "shim.h"

/* Linux runs a script's interpreter that is itself a script up to five
 * times; the sixth script in a row is ELOOP. */
#define SCRIPT_DEPTH 5

/* The new program's arguments, packed as the boot block packs them: the old
 * program's memory, where they come from, is about to be replaced. */
static char args[UKF_ARGS_MAX];
static char tmp[UKF_ARGS_MAX];
static char path[UKF_PATH_MAX];

/* Append the user's NULL-terminated string array at uarr to buf. */
static int64_t pack(uint64_t uarr, char *buf, uint64_t cap, uint64_t *used, uint64_t *count)
{
	*count = 0;
	if (!uarr)
		return 0;
	for (;; uarr += 8) {
		if (!ukf_user_ok(uarr, 8))
			return -EFAULT;
		uint64_t s = *UKF_UPTR(uint64_t, uarr);
		if (!s)
			return 0;
		int64_t n = ukf_user_strlen(s, cap - *used);
		if (n == -ENAMETOOLONG)
			return -E2BIG;
		if (n < 0)
			return n;
		memcpy(buf + *used, UKF_UPTR(const char, s), (uint64_t)n + 1);
		*used += (uint64_t)n + 1;
		(*count)++;
	}
}

/* Rewrite the arguments for "#!interp [arg]": interp [arg] script argv[1..].
 * The interpreter's path goes to path. */
static int64_t shebang(uint64_t *used, uint64_t *argc)
{
	const char *h = (const char *)ukf_elf_head;
	uint64_t n = ukf_elf_head_len, i = 2, end;
	for (end = 2; end < n && h[end] != '\n'; end++)
		;
	if (end == n)
		return -ENOEXEC; /* no line end within the first page */
	while (i < end && (h[i] == ' ' || h[i] == '\t'))
		i++;
	uint64_t is = i;
	while (i < end && h[i] != ' ' && h[i] != '\t')
		i++;
	uint64_t ie = i;
	while (i < end && (h[i] == ' ' || h[i] == '\t'))
		i++;
	uint64_t as = i, ae = end;
	while (ae > as && (h[ae - 1] == ' ' || h[ae - 1] == '\t' || h[ae - 1] == '\r'))
		ae--;
	if (ie == is || ie - is >= UKF_PATH_MAX)
		return -ENOEXEC;

	/* tmp = interp, [arg], script path, argv[1..], envp. */
	uint64_t t = 0, skip = strlen(args) + 1; /* drop argv[0] */
	uint64_t plen = strlen(path) + 1, need = (ie - is + 1) + (ae - as + 1) + plen + (*used - skip);
	if (*argc == 0)
		skip = 0;
	if (need > sizeof(tmp))
		return -E2BIG;
	memcpy(tmp + t, h + is, ie - is);
	t += ie - is;
	tmp[t++] = 0;
	uint64_t newargc = 1;
	if (ae > as) {
		memcpy(tmp + t, h + as, ae - as);
		t += ae - as;
		tmp[t++] = 0;
		newargc++;
	}
	memcpy(tmp + t, path, plen);
	t += plen;
	newargc++;
	memcpy(tmp + t, args + skip, *used - skip);
	t += *used - skip;
	memcpy(args, tmp, t);
	*used = t;
	*argc = newargc + (*argc ? *argc - 1 : 0);
	memcpy(path, h + is, ie - is);
	path[ie - is] = 0;
	return 0;
}

UKF_SYSCALL3(execve, uint64_t, upath, uint64_t, uargv, uint64_t, uenvp)
{
	uint64_t stack_size = UKF_PAGE_UP(ukf_boot->stack_size);
	uint64_t stack_bottom = ukf_mm_stack_bottom(stack_size);
	int64_t plen = ukf_user_path(upath);
	if (plen < 0)
		return plen;
	if (plen == 0)
		return -ENOENT;
	memcpy(path, UKF_UPTR(const char, upath), (uint64_t)plen + 1);

	uint64_t used = 0, argc = 0, envc = 0, n;
	struct ukf_elf_file ef;
	struct ukf_elf_info info;
	const char *why = "";
	int64_t r;
	for (int depth = 0;; depth++) {
		struct ukf_hc_faccessat acc = {
			.at = { .dirfd = UKF_AT_FDCWD, .path = (uint64_t)(uintptr_t)path,
				.pathlen = strlen(path) },
			.mode = 1 /* X_OK */,
		};
		r = ukf_hcall(UKF_HC_FACCESSAT, &acc);
		if (r == 0)
			r = ukf_elf_open(path, strlen(path), stack_bottom, &ef, &info, &why);
		if (r == 0 && (r = ukf_elf_fits(&ef, &why)) < 0)
			ukf_elf_close(&ef);
		if (r < 0 && r != -ENOEXEC)
			return r == -EISDIR ? -EACCES : r;
		if (depth == 0) {
			/* Linux opens the file before it copies the arguments. */
			int64_t p = pack(uargv, args, sizeof(args), &used, &argc);
			if (p >= 0)
				p = pack(uenvp, args, sizeof(args), &used, &envc);
			if (p < 0) {
				if (r == 0)
					ukf_elf_close(&ef);
				return p;
			}
		}
		if (r == 0)
			break;
		if (why != UKF_WHY_SCRIPT)
			return r;
		if (depth == SCRIPT_DEPTH)
			return -ELOOP;
		if ((r = shebang(&used, &argc)) < 0)
			return r;
	}

	/* The point of no return: the old program goes away. */
	ukf_mm_reset();
	if ((r = ukf_elf_map(&ef, &info, stack_size, &why)) < 0) {
		ukf_log("ukfork: execve %s: %s\n", path, why);
		ukf_die(UKF_SIGKILL);
	}
	/* After the load: the loader's own descriptor is close-on-exec too. */
	struct ukf_hc_execve note = { .path = (uint64_t)(uintptr_t)path, .pathlen = strlen(path) };
	ukf_hcall(UKF_HC_EXECVE, &note);
	ukf_rewrite_reset();
	ukf_set_comm(path);
	ukf_signal_exec();
	ukf_clear_child_tid = 0;
	uint64_t sp;
	n = argc;
	r = ukf_stack_build(UKF_STACK_TOP, stack_bottom, args, used, n, envc, path, &info, &sp);
	if (r < 0) {
		ukf_log("ukfork: execve %s: arguments do not fit on the stack\n", path);
		ukf_die(UKF_SIGKILL);
	}
	__asm__ volatile("wrfsbase %0; wrgsbase %0" : : "r"(0ULL));
	ukf_enter_user(info.entry, sp);
}
