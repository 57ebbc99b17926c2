/* The ELF loader and the initial process stack, for the first program (and a later execve). */
#include "shim.h"
#include "ukfork/mm.h"

/* ELF64 x86_64 programs: ET_EXEC, static-PIE (ET_DYN without PT_INTERP,
 * loaded at UKF_PIE_BASE) and dynamic ones (PT_INTERP: a PIE is loaded at
 * Linux's ELF_ET_DYN_BASE, its interpreter where mmap would put it, and the
 * program starts at the interpreter's entry with AT_BASE set). Each segment
 * is a mapping with the protection its flags give, read from the host file
 * into its frames; no page is shared with the page cache. */

struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type;
	uint16_t machine;
	uint32_t version;
	uint64_t entry;
	uint64_t phoff;
	uint64_t shoff;
	uint32_t flags;
	uint16_t ehsize;
	uint16_t phentsize;
	uint16_t phnum;
	uint16_t shentsize;
	uint16_t shnum;
	uint16_t shstrndx;
};

struct elf64_phdr {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ehdr");
_Static_assert(sizeof(struct elf64_phdr) == 56, "phdr");

#define ET_EXEC 2
#define ET_DYN 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_INTERP 3
#define PT_PHDR 6
#define PF_X 1
#define PF_W 2
#define PF_R 4
#define PHNUM_MAX 128 /* static binaries have about a dozen */

#define DYN_BASE UKF_U64(0x555555554000) /* ELF_ET_DYN_BASE: 2/3 of TASK_SIZE */

/* The last loaded program's headers, for a copy on the stack, and its
 * interpreter's. */
static struct elf64_phdr phdrs[PHNUM_MAX];
static struct elf64_phdr iphdrs[PHNUM_MAX];
static char interp_path[UKF_PATH_MAX];

/* ---- File access through the host --------------------------------------------- */

static int64_t file_open(const char *path, uint64_t len)
{
	struct ukf_hc_openat o = {
		.at = { .dirfd = UKF_AT_FDCWD, .path = (uint64_t)(uintptr_t)path,
			.pathlen = len },
		.flags = UKF_O_RDONLY | UKF_O_CLOEXEC,
	};
	return ukf_hcall(UKF_HC_OPENAT, &o);
}

static void file_close(int32_t fd)
{
	struct ukf_hc_close c = { .fd = fd };
	ukf_hcall(UKF_HC_CLOSE, &c);
}

/* Read len bytes at off into guest memory at dst; the count read (short at
 * EOF) or -errno. */
static int64_t file_pread(int32_t fd, uint64_t dst, uint64_t len, uint64_t off)
{
	uint64_t done = 0;

	while (done < len) {
		struct ukf_iovec iov = { .base = dst + done, .len = len - done };
		struct ukf_hc_rw rw = {
			.fd = fd, .flags = UKF_RW_OFFSET,
			.iov = (uint64_t)(uintptr_t)&iov, .iovcnt = 1,
			.offset = (int64_t)(off + done),
		};
		int64_t n = ukf_hcall(UKF_HC_READV, &rw);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += (uint64_t)n;
	}
	return (int64_t)done;
}

/* ---- Loader --------------------------------------------------------------------- */

static int64_t elf_check(const struct elf64_ehdr *eh, const char **why)
{
	static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };

	if (memcmp(eh->ident, magic, 4) != 0) {
		*why = "not an ELF file";
		return -ENOEXEC;
	}
	if (eh->ident[4] != 2 || eh->ident[5] != 1 || eh->ident[6] != 1 ||
	    eh->machine != EM_X86_64) {
		*why = "not an x86_64 little-endian ELF64 program";
		return -ENOEXEC;
	}
	if (eh->type != ET_EXEC && eh->type != ET_DYN) {
		*why = "not an executable (ELF type is neither EXEC nor DYN)";
		return -ENOEXEC;
	}
	if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phnum == 0 ||
	    eh->phnum > PHNUM_MAX) {
		*why = "unsupported program header table";
		return -ENOEXEC;
	}
	return 0;
}

/* The loadable extent [lo, hi) of the segments in ph, checked. */
static int64_t elf_extent(const struct elf64_phdr *ph, uint32_t phnum, uint64_t *lo_out,
			  uint64_t *hi_out, const char **why)
{
	uint64_t lo = ~0ULL, hi = 0;

	for (uint32_t i = 0; i < phnum; i++) {
		if (ph[i].type != PT_LOAD)
			continue;
		if (ph[i].filesz > ph[i].memsz) {
			*why = "segment has p_filesz > p_memsz";
			return -ENOEXEC;
		}
		if ((ph[i].offset & UKF_PAGE_MASK) != (ph[i].vaddr & UKF_PAGE_MASK)) {
			*why = "segment's offset and address differ within a page";
			return -ENOEXEC;
		}
		if (ph[i].vaddr + ph[i].memsz < ph[i].vaddr || ph[i].offset + ph[i].filesz < ph[i].offset) {
			*why = "segment wraps around";
			return -ENOEXEC;
		}
		if (UKF_PAGE_DOWN(ph[i].vaddr) < lo)
			lo = UKF_PAGE_DOWN(ph[i].vaddr);
		if (ph[i].vaddr + ph[i].memsz > hi)
			hi = ph[i].vaddr + ph[i].memsz;
	}
	if (hi == 0 || UKF_PAGE_UP(hi) < hi || hi - lo > UKF_USER_TOP / 4) {
		*why = "no loadable segments, or too large";
		return -ENOEXEC;
	}
	*lo_out = lo;
	*hi_out = hi;
	return 0;
}

/* Check the program's segments against the layout and compute the load
 * bias; note the interpreter a dynamic program names. */
static int64_t elf_plan(const struct elf64_ehdr *eh, uint64_t stack_bottom,
			struct ukf_elf_info *info, uint64_t *bias, int *dynamic,
			const char **why)
{
	uint64_t lo, hi;
	int64_t r = elf_extent(phdrs, eh->phnum, &lo, &hi, why);
	if (r < 0)
		return r;
	*dynamic = 0;
	for (uint32_t i = 0; i < eh->phnum; i++)
		if (phdrs[i].type == PT_INTERP)
			*dynamic = 1;
	*bias = eh->type == ET_DYN ? (*dynamic ? DYN_BASE : UKF_PIE_BASE) - lo : 0;
	lo += *bias;
	hi += *bias;
	if (lo < UKF_USER_MIN || hi < lo || UKF_PAGE_UP(hi) < hi) {
		*why = "segments below the program area (0x400000)";
		return -ENOEXEC;
	}
	if (UKF_PAGE_UP(hi) > stack_bottom) {
		*why = "segments overlap the stack";
		return -ENOEXEC;
	}
	info->lo = lo;
	info->hi = hi;
	info->brk_start = UKF_PAGE_UP(hi);
	info->entry = eh->entry + *bias;
	info->prog_entry = info->entry;
	info->base = 0;
	if (info->entry < lo || info->entry >= hi) {
		*why = "entry point outside the loaded segments";
		return -ENOEXEC;
	}
	return 0;
}

/* Load the static ELF program at path into guest memory, which must read as
 * zero over the program area (fresh, or discarded by the caller). On error
 * returns -errno with *why set to a one-line reason. */
/* The first page of the last file opened: ELF headers, or a #! line. */
static uint8_t head[4096] __attribute__((aligned(8)));

/* Read and check the ELF header and program headers of fd into eh and ph;
 * got is what the first read returned (the page in head). */
static int64_t read_elf(int32_t fd, struct elf64_ehdr *eh, struct elf64_phdr *ph,
			int64_t got, const char **why)
{
	int64_t r = got;
	if (r >= 0 && r < (int64_t)sizeof(*eh)) {
		*why = "not an ELF file (too short)";
		return -ENOEXEC;
	}
	if (r < 0)
		return r;
	memcpy(eh, head, sizeof(*eh));
	if ((r = elf_check(eh, why)) < 0)
		return r;
	uint64_t phsize = (uint64_t)eh->phnum * sizeof(struct elf64_phdr);
	if (eh->phoff <= (uint64_t)got && phsize <= (uint64_t)got - eh->phoff) {
		memcpy(ph, head + eh->phoff, phsize);
		r = (int64_t)phsize;
	} else {
		r = file_pread(fd, (uint64_t)(uintptr_t)ph, phsize, eh->phoff);
	}
	if (r >= 0 && (uint64_t)r < phsize) {
		*why = "truncated program header table";
		r = -ENOEXEC;
	}
	return r < 0 ? r : 0;
}

/* Open and check the interpreter a dynamic program names (its PT_INTERP,
 * read from the program's fd), into ef. */
static int64_t open_interp(int32_t pfd, struct ukf_elf_file *ef, const char **why)
{
	const struct elf64_phdr *pi = 0;
	for (uint32_t i = 0; i < ef->phnum; i++)
		if (phdrs[i].type == PT_INTERP)
			pi = &phdrs[i];
	if (pi->filesz < 2 || pi->filesz > sizeof(interp_path)) {
		*why = "bad PT_INTERP";
		return -ENOEXEC;
	}
	int64_t r = file_pread(pfd, (uint64_t)(uintptr_t)interp_path, pi->filesz, pi->offset);
	if (r >= 0 && ((uint64_t)r < pi->filesz || interp_path[pi->filesz - 1] != 0 ||
		       strlen(interp_path) != pi->filesz - 1)) {
		*why = "bad PT_INTERP";
		r = -ENOEXEC;
	}
	if (r < 0)
		return r;
	*why = "cannot open its interpreter (bake adds it: is the image from an older ukfork?)";
	int64_t fd64 = file_open(interp_path, strlen(interp_path));
	if (fd64 < 0)
		return fd64;
	int32_t fd = (int32_t)fd64;
	struct elf64_ehdr eh;
	r = read_elf(fd, &eh, iphdrs, file_pread(fd, (uint64_t)(uintptr_t)head, sizeof(head), 0), why);
	if (r == 0 && eh.type != ET_DYN) {
		*why = "its interpreter is not a shared object";
		r = -ELIBBAD;
	}
	for (uint32_t i = 0; r == 0 && i < eh.phnum; i++) {
		if (iphdrs[i].type == PT_INTERP) {
			*why = "its interpreter has an interpreter";
			r = -ELIBBAD;
		}
	}
	if (r == 0)
		r = elf_extent(iphdrs, eh.phnum, &ef->ilo, &ef->ihi, why);
	if (r < 0) {
		file_close(fd);
		return r == -ENOEXEC ? -ELIBBAD : r;
	}
	ef->ifd = fd;
	ef->iphnum = eh.phnum;
	ef->ientry = eh.entry;
	return 0;
}

/* Open the ELF program at path (and its interpreter) and check it fits
 * below stack_bottom; the program's memory is not touched, so an execve can
 * still fail cleanly. A file starting with "#!" gives -ENOEXEC with *why =
 * UKF_WHY_SCRIPT and its first line in ukf_elf_head. On error returns
 * -errno with *why set. */
int64_t ukf_elf_open(const char *path, uint64_t path_len, uint64_t stack_bottom,
		     struct ukf_elf_file *ef, struct ukf_elf_info *info, const char **why)
{
	struct elf64_ehdr eh;
	int64_t r;
	int dynamic;

	*why = "cannot open";
	ef->fd = ef->ifd = -1;
	int64_t fd64 = file_open(path, path_len);
	if (fd64 < 0)
		return fd64;
	int32_t fd = (int32_t)fd64;

	/* One read for the headers: the program headers nearly always follow
	 * the ELF header in the first page, and every exit costs ~20 us. */
	int64_t got = file_pread(fd, (uint64_t)(uintptr_t)head, sizeof(head), 0);
	if (got >= 2 && head[0] == '#' && head[1] == '!') {
		ukf_elf_head_len = (uint64_t)got;
		*why = UKF_WHY_SCRIPT;
		r = -ENOEXEC;
		goto fail;
	}
	if ((r = read_elf(fd, &eh, phdrs, got, why)) < 0)
		goto fail;
	if ((r = elf_plan(&eh, stack_bottom, info, &ef->bias, &dynamic, why)) < 0)
		goto fail;
	ef->phoff = eh.phoff;
	ef->phnum = eh.phnum;
	if (dynamic && (r = open_interp(fd, ef, why)) < 0)
		goto fail;
	ef->fd = fd;
	return 0;
fail:
	file_close(fd);
	return r;
}

/* Map the PT_LOAD segments of ph (from fd) at bias. */
static int64_t map_segments(const struct elf64_phdr *ph, uint32_t phnum, int32_t fd,
			    uint64_t bias, const char **why)
{
	struct ukf_hc_fmap fm;
	int shared = ukf_mm_file_in_image(fd, &fm);
	for (uint32_t i = 0; i < phnum; i++) {
		if (ph[i].type != PT_LOAD)
			continue;
		/* The whole first page comes from the file, as Linux maps
		 * it; past p_filesz it reads zero (the bss). */
		uint64_t va = ph[i].vaddr + bias, skip = va & UKF_PAGE_MASK;
		uint32_t prot = ((ph[i].flags & PF_R) ? UKF_PROT_READ : 0) |
				((ph[i].flags & PF_W) ? UKF_PROT_WRITE : 0) |
				((ph[i].flags & PF_X) ? UKF_PROT_EXEC : 0);
		int64_t r = ukf_mm_map_file(va - skip, UKF_PAGE_UP(va + ph[i].memsz) - (va - skip), prot,
					    fd, shared ? &fm : 0, (int64_t)(ph[i].offset - skip),
					    ph[i].filesz ? ph[i].filesz + skip : 0);
		if (r < 0) {
			*why = r == -ENOMEM ? "out of guest memory for the segments" :
					      "cannot read segment";
			return r;
		}
	}
	return 0;
}

/* Map a program opened by ukf_elf_open in a space with nothing mapped, lay
 * out the rest (heap, stack of stack_size, mappings), map its interpreter
 * where mmap puts a library, and close the files. */
int64_t ukf_elf_map(struct ukf_elf_file *ef, struct ukf_elf_info *info,
		    uint64_t stack_size, const char **why)
{
	uint64_t phsize = (uint64_t)ef->phnum * sizeof(struct elf64_phdr);

	info->phdr = 0;
	info->phnum = ef->phnum;
	for (uint32_t i = 0; i < ef->phnum; i++) {
		const struct elf64_phdr *ph = &phdrs[i];
		if (ph->type == PT_PHDR)
			info->phdr = ph->vaddr + ef->bias;
		if (ph->type == PT_LOAD && !info->phdr && ph->offset <= ef->phoff &&
		    ef->phoff + phsize <= ph->offset + ph->filesz)
			info->phdr = ph->vaddr + (ef->phoff - ph->offset) + ef->bias;
	}
	int64_t r = map_segments(phdrs, ef->phnum, ef->fd, ef->bias, why);
	if (r == 0 && (r = ukf_mm_init(info->brk_start, stack_size)) < 0)
		*why = "out of guest memory for the stack";
	if (r == 0 && ef->ifd >= 0) {
		uint64_t span = UKF_PAGE_UP(ef->ihi) - ef->ilo;
		uint64_t at = ukf_mm_reserve(span);
		if (!at) {
			*why = "no room for its interpreter";
			r = -ENOMEM;
		} else {
			uint64_t bias = at - ef->ilo;
			r = map_segments(iphdrs, ef->iphnum, ef->ifd, bias, why);
			info->base = bias;
			info->entry = ef->ientry + bias;
		}
	}
	ukf_elf_close(ef);
	return r;
}

/* Whether every segment of a program opened by ukf_elf_open lies in its
 * file: -EIO (a short read, as Linux's loader says) if not. execve checks
 * this before the point of no return; Linux kills the caller for such a file
 * once the old program is gone. The first program was checked by bake. */
int64_t ukf_elf_fits(const struct ukf_elf_file *ef, const char **why)
{
	struct ukf_stat st;
	struct ukf_hc_fstatat s = {
		.at = { .dirfd = ef->fd, .flags = UKF_AT_EMPTY_PATH },
		.statbuf = (uint64_t)(uintptr_t)&st,
	};
	int64_t r = ukf_hcall(UKF_HC_FSTATAT, &s);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < ef->phnum; i++) {
		const struct elf64_phdr *ph = &phdrs[i];
		if (ph->type == PT_LOAD && ph->offset + ph->filesz > (uint64_t)st.st_size) {
			*why = "truncated file (segment past end of file)";
			return -EIO;
		}
	}
	return 0;
}

void ukf_elf_close(struct ukf_elf_file *ef)
{
	if (ef->fd >= 0)
		file_close(ef->fd);
	if (ef->ifd >= 0)
		file_close(ef->ifd);
	ef->fd = ef->ifd = -1;
}

uint64_t ukf_elf_head_len;
const char ukf_why_script[] = "script";
const uint8_t *const ukf_elf_head = head;

int64_t ukf_elf_load(const char *path, uint64_t path_len, uint64_t stack_size,
		     struct ukf_elf_info *info, const char **why)
{
	struct ukf_elf_file ef;
	int64_t r = ukf_elf_open(path, path_len, ukf_mm_stack_bottom(stack_size), &ef, info, why);
	if (r < 0)
		return r;
	return ukf_elf_map(&ef, info, stack_size, why);
}

/* ---- Initial stack -------------------------------------------------------------- */

#define AUXV_PAIRS 20 /* the entries below, AT_NULL included */

/* Build the stack Linux gives a new program, below top:
 *
 *   top:  8 zero bytes, execfn, envp and argv strings (argv[0] lowest),
 *         16-byte alignment, "x86_64", 16 AT_RANDOM bytes, [program headers],
 *   sp:   argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL  (sp % 16 == 0)
 *
 * strs holds argc then envc NUL-terminated strings back to back (the boot
 * block's format; an execve packs its arguments the same way first, since
 * they may live in memory the new program replaces). */
int64_t ukf_stack_build(uint64_t top, uint64_t bottom, const char *strs,
			uint64_t strs_len, uint64_t argc, uint64_t envc,
			const char *execfn, const struct ukf_elf_info *info,
			uint64_t *sp_out)
{
	static const char platform[] = "x86_64";

	/* Measure the strings: they must all end inside the block. */
	uint64_t used = 0;
	for (uint64_t i = 0; i < argc + envc; i++) {
		if (used >= strs_len)
			return -EINVAL;
		used += strnlen(strs + used, strs_len - used) + 1;
		if (used > strs_len)
			return -EINVAL;
	}
	uint64_t fnlen = strlen(execfn) + 1;
	uint64_t phcopy = info->phdr ? 0 : info->phnum * sizeof(struct elf64_phdr);
	uint64_t words = 1 + argc + 1 + envc + 1 + 2 * AUXV_PAIRS;
	uint64_t need = 8 + fnlen + used + 16 + sizeof(platform) + 16 + phcopy + 8 +
			words * 8 + 16;
	/* Like Linux, arguments may take at most a quarter of the stack. */
	if (top < bottom || need > (top - bottom) / 4)
		return -E2BIG;

	uint64_t p = top - 8;
	memset(UKF_UPTR(void, p), 0, 8);
	p -= fnlen;
	uint64_t u_execfn = p;
	memcpy(UKF_UPTR(void, p), execfn, fnlen);
	p -= used;
	uint64_t u_strs = p;
	memcpy(UKF_UPTR(void, p), strs, used);

	p &= ~15ULL;
	p -= sizeof(platform);
	uint64_t u_platform = p;
	memcpy(UKF_UPTR(void, p), platform, sizeof(platform));
	p -= 16;
	uint64_t u_random = p;
	memcpy(UKF_UPTR(void, p), ukf_boot->random, 16);
	uint64_t u_phdr = info->phdr;
	if (phcopy) {
		p = (p - phcopy) & ~7ULL;
		u_phdr = p;
		memcpy(UKF_UPTR(void, p), phdrs, phcopy);
	}

	uint64_t sp = (p - words * 8) & ~15ULL;
	uint64_t *w = UKF_UPTR(uint64_t, sp);
	*w++ = argc;
	uint64_t off = 0;
	for (uint64_t i = 0; i < argc; i++) {
		*w++ = u_strs + off;
		off += strlen(strs + off) + 1;
	}
	*w++ = 0; /* end of argv */
	ukf_boot->arg_start = u_strs; /* for /proc/PID/cmdline and environ */
	ukf_boot->arg_end = ukf_boot->env_start = u_strs + off;
	for (uint64_t i = 0; i < envc; i++) {
		*w++ = u_strs + off;
		off += strlen(strs + off) + 1;
	}
	*w++ = 0; /* end of envp */
	ukf_boot->env_end = u_strs + off;

	/* The order Linux's create_elf_tables uses. */
	const uint64_t auxv[2 * AUXV_PAIRS] = {
		UKF_AT_HWCAP, ukf_boot->hwcap,
		UKF_AT_PAGESZ, UKF_PAGE_SIZE,
		UKF_AT_CLKTCK, 100,
		UKF_AT_PHDR, u_phdr,
		UKF_AT_PHENT, sizeof(struct elf64_phdr),
		UKF_AT_PHNUM, info->phnum,
		UKF_AT_BASE, info->base,
		UKF_AT_FLAGS, 0,
		UKF_AT_ENTRY, info->prog_entry,
		UKF_AT_UID, ukf_cred.ruid,
		UKF_AT_EUID, ukf_cred.euid,
		UKF_AT_GID, ukf_cred.rgid,
		UKF_AT_EGID, ukf_cred.egid,
		UKF_AT_SECURE, 0,
		UKF_AT_RANDOM, u_random,
		UKF_AT_HWCAP2, 0,
		UKF_AT_EXECFN, u_execfn,
		UKF_AT_PLATFORM, u_platform,
		UKF_AT_MINSIGSTKSZ, ukf_sigframe_size(),
		UKF_AT_NULL, 0,
	};
	memcpy(w, auxv, sizeof(auxv));
	*sp_out = sp;
	return 0;
}

/* ---- The first program ---------------------------------------------------------- */

__attribute__((noreturn)) static void exec_fail(const char *prog, const char *why,
						int64_t err)
{
	ukf_log("ukfork: %s: %s (errno %ld)\n", prog, why, (long)-err);
	ukf_exit(err == -ENOENT ? 127 : 126);
}

void ukf_exec_initial(void)
{
	struct ukf_elf_info info;
	const char *why;
	uint64_t sp;
	const char *prog = ukf_boot->program;
	ukf_time_init();
	ukf_cred_init();
	ukf_mm_boot();
	ukf_rlimits_init();

	uint64_t plen = strnlen(prog, sizeof(ukf_boot->program));
	if (plen == 0 || plen == sizeof(ukf_boot->program))
		exec_fail("(program)", "bad program path in the boot block", -EINVAL);
	uint64_t stack_size = UKF_PAGE_UP(ukf_boot->stack_size);
	if (stack_size == 0 || stack_size >= UKF_STACK_TOP / 2)
		exec_fail(prog, "stack size (RLIMIT_STACK) out of range", -ENOMEM);
	uint64_t stack_bottom = ukf_mm_stack_bottom(stack_size);

	int64_t r = ukf_elf_load(prog, plen, stack_size, &info, &why);
	if (r < 0)
		exec_fail(prog, why, r);
	ukf_rewrite_reset();
	ukf_set_comm(prog);

	uint64_t args_len = ukf_boot->args_len;
	if (args_len > UKF_ARGS_MAX)
		exec_fail(prog, "argument block too large", -E2BIG);
	r = ukf_stack_build(UKF_STACK_TOP, stack_bottom, UKF_UPTR(const char, UKF_ARGS_ADDR),
			    args_len, ukf_boot->argc, ukf_boot->envc, prog, &info, &sp);
	if (r < 0)
		exec_fail(prog, r == -E2BIG ? "arguments do not fit on the stack" :
			  "malformed argument block", r);

	if (ukf_boot->flags & UKF_BOOT_STARTED) {
		struct ukf_hc_started s = { .entry = info.entry };
		ukf_hcall(UKF_HC_STARTED, &s);
	}
	ukf_enter_user(info.entry, sp);
}
