/* Memory syscalls: brk, mmap, munmap, mremap, mprotect, madvise, msync,
 * mlock; demand faults; and the checks on user pointers.
 *
 * The program's space is Linux's layout in 47 bits (guest/include/ukfork/
 * abi.h): the program's segments from UKF_USER_MIN (or where it was linked),
 * the heap above them, mappings top-down from below the stack, the stack
 * under UKF_STACK_TOP with a guard gap below it. What is mapped is a sorted
 * array of mappings (vmas); what backs it is the page tables (guest/mm):
 * a page of a mapping has a frame once populated, present in its entry
 * unless the mapping is PROT_NONE. Populating is eager for small mappings
 * (a PTE write is ~free, a fault ~47 us) and on demand for large ones, so
 * a reservation costs no RAM and --mem bounds what is touched. Taking
 * access away (munmap, mprotect, MAP_FIXED over, mremap) ends with
 * ukf_pt_sync, without which PVM keeps the old mapping. */
#include "shim.h"
#include "ukfork/mm.h"

#define VMA_MAX UKF_VMA_MAX
#define EAGER_MAX (UKF_U64(1) << 20)    /* anonymous mappings up to this are populated at once */
#define FAULT_AROUND (UKF_U64(16) << 12) /* pages populated by one demand fault */
#define MADV_CLEAR_MAX (UKF_U64(1) << 20)
#define STACK_GAP (UKF_U64(256) << 12)   /* Linux's stack_guard_gap: 1 MiB */
#define STACK_EAGER (UKF_U64(128) << 10)

/* What a mapping is, besides its protection. */
#define VF_HEAP   UKF_VMA_HEAP
#define VF_STACK  UKF_VMA_STACK
#define VF_SHARED UKF_VMA_SHARED
#define VF_SHM    UKF_VMA_SHM
#define VF_NOWRITE UKF_VMA_NOWRITE
#define vma ukf_vma

static struct vma vmas[VMA_MAX]; /* sorted by start, never overlapping */
static uint32_t nvmas;
static uint64_t brk_start, brk_cur, mmap_top;
static int image_ok; /* the image is mapped at UKF_IMAGE_VA */

/* Shared objects (MAP_SHARED) in the VM's window: how many
 * of each one's pages some entry still maps. The last one unmapped gives
 * the object back (after the entries are synced), so the window never
 * holds what nothing maps, and a fork's child has the same table. */
#define SHM_MAX 64
static struct { uint64_t gpa, size, va, pages; int gone, sysv; } shm[SHM_MAX];
static uint32_t nshm;

/* ---- Page entries ----------------------------------------------------------- */

/* The leaf entry bits of a page of a mapping with prot: always the frame
 * mark; present unless PROT_NONE. A and D are set ahead: a first touch then
 * costs PVM a third as much. */
static uint64_t pte_bits(uint32_t prot)
{
	uint64_t b = UKF_PTE_FRAME;
	if (!(prot & (UKF_PROT_READ | UKF_PROT_WRITE | UKF_PROT_EXEC)))
		return b;
	b |= UKF_PTE_P | UKF_PTE_U | UKF_PTE_A;
	if (prot & UKF_PROT_WRITE)
		b |= UKF_PTE_W | UKF_PTE_D;
	if (!(prot & UKF_PROT_EXEC))
		b |= UKF_PTE_NX;
	return b;
}

/* Whether changing an entry from old to new takes access away. */
static int downgrade(uint64_t old, uint64_t new)
{
	if (!(old & UKF_PTE_P))
		return 0;
	return !(new & UKF_PTE_P) || ((old & UKF_PTE_W) && !(new & UKF_PTE_W)) ||
	       (!(old & UKF_PTE_NX) && (new & UKF_PTE_NX)) ||
	       (old & UKF_PTE_ADDR) != (new & UKF_PTE_ADDR);
}

/* Give every page in [start, end) a frame, with prot's bits; pages that
 * have one keep it. With prot PROT_NONE nothing is populated unless force
 * (a file mapping's contents must exist). -ENOMEM when RAM runs out. */
static int64_t populate(uint64_t start, uint64_t end, uint32_t prot, int force)
{
	uint64_t bits = pte_bits(prot);
	if (!(bits & UKF_PTE_P) && !force)
		return 0;
	for (uint64_t va = start; va < end; va += UKF_PAGE_SIZE) {
		uint64_t *pte = ukf_pte(va, 1);
		if (!pte)
			return -ENOMEM;
		if (*pte & UKF_PTE_FRAME)
			continue;
		uint64_t f = ukf_frame_alloc();
		if (!f)
			return -ENOMEM;
		*pte = f | bits;
	}
	return 0;
}

struct pass { uint64_t bits; int sync; };

static void shm_drop_page(uint64_t gpa);

static void drop_page(uint64_t *pte, uint64_t va, void *ctx)
{
	struct pass *p = ctx;
	(void)va;
	if (*pte & UKF_PTE_P)
		p->sync = 1;
	if (*pte & UKF_PTE_SHM)
		shm_drop_page(*pte & UKF_PTE_ADDR);
	else if ((*pte & UKF_PTE_FRAME) && !(*pte & UKF_PTE_IMAGE))
		ukf_frame_free(*pte & UKF_PTE_ADDR);
	*pte = 0;
}

static void shm_flush(void);

/* Free the pages of [start, end): no access is left to any of them. */
static void drop_pages(uint64_t start, uint64_t end)
{
	struct pass p = { 0, 0 };
	ukf_pt_each(start, end, drop_page, &p);
	if (p.sync)
		ukf_pt_sync(start, end);
	ukf_frames_flush();
	shm_flush(); /* after the sync: no entry reaches what goes */
}

/* Give a page of the image a frame of its own, a copy, keeping its other
 * bits (the copy-on-write of a shared file page that becomes writable).
 * The entry now names another page: the caller syncs. */
static int unshare(uint64_t *pte)
{
	uint64_t f = ukf_frame_alloc();
	if (!f)
		return -ENOMEM;
	memcpy(ukf_phys(f), ukf_image_page(*pte & UKF_PTE_ADDR), UKF_PAGE_SIZE);
	*pte = f | (*pte & ~(UKF_PTE_ADDR | UKF_PTE_IMAGE));
	return 0;
}

static __attribute__((noreturn)) void out_of_memory(void)
{
	ukf_log("ukfork: out of guest memory (%lu MiB): give the run more with --mem\n",
		(unsigned long)(ukf_boot->mem_size >> 20));
	ukf_die(UKF_SIGKILL);
}

static void protect_page(uint64_t *pte, uint64_t va, void *ctx)
{
	struct pass *p = ctx;
	(void)va;
	if (!(*pte & UKF_PTE_FRAME))
		return;
	uint64_t old = *pte;
	if ((old & UKF_PTE_IMAGE) && (p->bits & UKF_PTE_W) && unshare(pte) < 0)
		out_of_memory();
	uint64_t n = (*pte & (UKF_PTE_ADDR | UKF_PTE_IMAGE | UKF_PTE_SHM)) | p->bits;
	if (downgrade(old, n))
		p->sync = 1;
	*pte = n;
}

static void protect_pages(uint64_t start, uint64_t end, uint32_t prot)
{
	struct pass p = { pte_bits(prot), 0 };
	ukf_pt_each(start, end, protect_page, &p);
	if (p.sync)
		ukf_pt_sync(start, end);
}

/* ---- Mappings ----------------------------------------------------------------- */

/* Index of the first mapping that ends above addr (nvmas if none). */
static uint32_t vma_first_after(uint64_t addr)
{
	uint32_t lo = 0, hi = nvmas;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (vmas[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The mapping that holds addr, or 0. */
static struct vma *vma_at(uint64_t addr)
{
	uint32_t i = vma_first_after(addr);
	return i < nvmas && vmas[i].start <= addr ? &vmas[i] : 0;
}

static int vma_overlaps(uint64_t start, uint64_t end)
{
	uint32_t i = vma_first_after(start);
	return i < nvmas && vmas[i].start < end;
}

/* Join mapping i with its neighbours when they are alike and adjacent. */
static void vma_merge(uint32_t i)
{
	if (i + 1 < nvmas && vmas[i].end == vmas[i + 1].start &&
	    vmas[i].prot == vmas[i + 1].prot && vmas[i].flags == vmas[i + 1].flags) {
		vmas[i].end = vmas[i + 1].end;
		memmove(&vmas[i + 1], &vmas[i + 2], (nvmas - i - 2) * sizeof(vmas[0]));
		nvmas--;
	}
	if (i > 0 && vmas[i - 1].end == vmas[i].start &&
	    vmas[i - 1].prot == vmas[i].prot && vmas[i - 1].flags == vmas[i].flags) {
		vmas[i - 1].end = vmas[i].end;
		memmove(&vmas[i], &vmas[i + 1], (nvmas - i - 1) * sizeof(vmas[0]));
		nvmas--;
	}
}

/* Insert a mapping over a range that no mapping overlaps. */
static int64_t vma_insert(uint64_t start, uint64_t end, uint32_t prot, uint32_t flags)
{
	if (nvmas == VMA_MAX)
		return -ENOMEM;
	uint32_t i = vma_first_after(start);
	memmove(&vmas[i + 1], &vmas[i], (nvmas - i) * sizeof(vmas[0]));
	vmas[i] = (struct vma){ start, end, prot, flags };
	nvmas++;
	vma_merge(i);
	return 0;
}

/* Split the mapping that straddles addr, if one does. */
static int64_t vma_split(uint64_t addr)
{
	uint32_t i = vma_first_after(addr);
	if (i >= nvmas || vmas[i].start >= addr)
		return 0;
	if (nvmas == VMA_MAX)
		return -ENOMEM;
	memmove(&vmas[i + 1], &vmas[i], (nvmas - i) * sizeof(vmas[0]));
	nvmas++;
	vmas[i].end = addr;
	vmas[i + 1].start = addr;
	return 0;
}

/* Unmap [start, end): its pages and its mappings. Needs a free slot when
 * the range is inside one mapping (callers check). */
static int64_t unmap_range(uint64_t start, uint64_t end)
{
	if (start >= end)
		return 0;
	int64_t r = vma_split(start);
	if (r == 0)
		r = vma_split(end);
	if (r < 0)
		return r;
	drop_pages(start, end);
	uint32_t i = vma_first_after(start), j = i;
	while (j < nvmas && vmas[j].start < end)
		j++;
	memmove(&vmas[i], &vmas[j], (nvmas - j) * sizeof(vmas[0]));
	nvmas -= j - i;
	return 0;
}

/* Whether [start, end) is entirely covered by mappings, without holes. */
static int vma_covered(uint64_t start, uint64_t end)
{
	uint32_t i = vma_first_after(start);
	uint64_t at = start;

	for (; i < nvmas && at < end; i++) {
		if (vmas[i].start > at)
			return 0;
		at = vmas[i].end;
	}
	return at >= end;
}

/* Highest free range of len bytes in [UKF_USER_MIN, ceiling), top-down
 * like Linux; 0 if none. */
static uint64_t find_free(uint64_t len, uint64_t ceiling)
{
	uint64_t floor = UKF_USER_MIN, top = ceiling;

	for (uint32_t i = nvmas; i-- > 0;) {
		const struct vma *v = &vmas[i];
		if (v->start >= top)
			continue;
		uint64_t lo = v->end > floor ? v->end : floor;
		if (v->end < top && top > lo && top - lo >= len)
			return top - len;
		top = v->start;
		if (top <= floor)
			return 0;
	}
	if (top > floor && top - floor >= len)
		return top - len;
	return 0;
}

static int range_free(uint64_t start, uint64_t end, uint64_t ceiling)
{
	return start >= UKF_USER_MIN && end <= ceiling && start < end &&
	       !vma_overlaps(start, end);
}

/* ---- Layout ------------------------------------------------------------------ */

uint64_t ukf_mm_stack_bottom(uint64_t stack_size)
{
	return UKF_STACK_TOP - UKF_PAGE_UP(stack_size);
}

/* At boot: RAM is all free, the image mapped for the runtime. */
void ukf_mm_boot(void)
{
	ukf_boot->vma_table = (uint64_t)(uintptr_t)vmas;
	ukf_boot->vma_count_at = (uint64_t)(uintptr_t)&nvmas;
	ukf_frames_init();
	image_ok = ukf_pt_map_image();
}

/* A new program's space: nothing mapped. */
void ukf_mm_reset(void)
{
	nvmas = 0;
	nshm = 0; /* the host drops the objects' windows at execve */
	ukf_pt_reset();
	ukf_frames_reset();
	image_ok = ukf_pt_map_image(); /* its tables were frames too */
}

/* The loader mapped the program's segments; add the stack, with the top of
 * it populated (the arguments go there), and place the heap and mappings. */
int64_t ukf_mm_init(uint64_t brk_start_, uint64_t stack_size)
{
	uint64_t bottom = ukf_mm_stack_bottom(stack_size);
	brk_start = brk_cur = UKF_PAGE_UP(brk_start_);
	/* Linux: mappings start below the stack's limit (at least 128 MiB)
	 * and its guard gap. */
	uint64_t room = UKF_PAGE_UP(stack_size) < (UKF_U64(128) << 20) ?
			(UKF_U64(128) << 20) : UKF_PAGE_UP(stack_size);
	mmap_top = UKF_STACK_TOP - room - STACK_GAP;
	int64_t r = vma_insert(bottom, UKF_STACK_TOP, UKF_PROT_READ | UKF_PROT_WRITE, VF_STACK);
	if (r < 0)
		return r;
	uint64_t eager = UKF_STACK_TOP - bottom < STACK_EAGER ? UKF_STACK_TOP - bottom : STACK_EAGER;
	return populate(UKF_STACK_TOP - eager, UKF_STACK_TOP, UKF_PROT_READ | UKF_PROT_WRITE, 0);
}

uint64_t ukf_mm_used(void)
{
	return (ukf_frames_total() - ukf_frames_avail()) * UKF_PAGE_SIZE;
}

/* ---- The loader's and the rewriter's entry points ------------------------------- */

/* Read len bytes of fd at off into the frames behind [va, va+len), through
 * the direct map: the program's protection does not matter, and the host
 * writes RAM it already holds. Bytes past EOF stay zero. */
static int64_t fill_from_file(int32_t fd, uint64_t va, uint64_t len, int64_t off)
{
	static struct ukf_iovec iov[64];

	while (len) {
		uint32_t n = 0;
		uint64_t want = 0;
		for (uint64_t a = va; n < 64 && want < len;) {
			uint64_t *pte = ukf_pte(a, 0);
			if (!pte || !(*pte & UKF_PTE_FRAME))
				return -EFAULT;
			uint64_t at = UKF_DMAP_BASE + (*pte & UKF_PTE_ADDR) + (a & UKF_PAGE_MASK);
			uint64_t chunk = UKF_PAGE_SIZE - (a & UKF_PAGE_MASK);
			if (chunk > len - want)
				chunk = len - want;
			if (n && iov[n - 1].base + iov[n - 1].len == at)
				iov[n - 1].len += chunk;
			else
				iov[n++] = (struct ukf_iovec){ .base = at, .len = chunk };
			a += chunk;
			want += chunk;
		}
		struct ukf_hc_rw rw = {
			.fd = fd, .flags = UKF_RW_OFFSET,
			.iov = (uint64_t)(uintptr_t)iov, .iovcnt = n, .offset = off,
		};
		int64_t got = ukf_hcall(UKF_HC_READV, &rw);
		if (got < 0)
			return got;
		if (got == 0)
			break;
		va += (uint64_t)got;
		len -= (uint64_t)got;
		off += got;
	}
	return 0;
}

/* ---- Files of the image, shared --------------------------------------------- */

/* Where fd's bytes are in the image the host maps into every VM, if they
 * are (an image file, unchanged): 1 with *fm filled in. */
int ukf_mm_file_in_image(int32_t fd, struct ukf_hc_fmap *fm)
{
	if (!image_ok)
		return 0;
	*fm = (struct ukf_hc_fmap){ .fd = fd };
	return ukf_hcall(UKF_HC_FMAP, fm) == 0 && (fm->gpa & UKF_PAGE_MASK) == 0 &&
	       fm->gpa >= UKF_IMAGE_GPA && fm->gpa - UKF_IMAGE_GPA < ukf_boot->image_size &&
	       fm->size <= ukf_boot->image_size - (fm->gpa - UKF_IMAGE_GPA);
}

/* Point the pages of [va, va+len), file offset off on, at the image's copy
 * of the file, up to file offset end or the file's end (the last page reads
 * zero past it); pages past that stay for demand-zero. The range has no
 * entries yet. No frame, no copy: every VM shares these pages with the
 * host's page cache. */
static int64_t share_pages(const struct ukf_hc_fmap *fm, uint64_t va, uint64_t len,
			   uint64_t off, uint64_t end, uint32_t prot)
{
	uint64_t bits = pte_bits(prot) | UKF_PTE_IMAGE;
	if (end > fm->size)
		end = fm->size;
	for (uint64_t i = 0; i < len && off + i < end; i += UKF_PAGE_SIZE) {
		uint64_t *pte = ukf_pte(va + i, 1);
		if (!pte)
			return -ENOMEM;
		*pte = (fm->gpa + off + i) | bits;
	}
	return 0;
}

/* Copy n bytes of the file at off into the frames behind va: from the
 * image when the file is there (fm; no exit), else reading fd. */
static int64_t fill(int32_t fd, const struct ukf_hc_fmap *fm, uint64_t va, uint64_t n, int64_t off)
{
	if (!fm)
		return fill_from_file(fd, va, n, off);
	if ((uint64_t)off >= fm->size)
		return 0;
	if (n > fm->size - (uint64_t)off)
		n = fm->size - (uint64_t)off;
	const uint8_t *src = (const uint8_t *)ukf_image_page(fm->gpa) + off;
	for (uint64_t done = 0; done < n;) {
		uint64_t a = va + done;
		uint64_t *pte = ukf_pte(a, 0);
		if (!pte || !(*pte & UKF_PTE_FRAME) || (*pte & UKF_PTE_IMAGE))
			return -EFAULT;
		uint64_t chunk = UKF_PAGE_SIZE - (a & UKF_PAGE_MASK);
		if (chunk > n - done)
			chunk = n - done;
		memcpy((uint8_t *)ukf_phys((*pte & UKF_PTE_ADDR) + (a & UKF_PAGE_MASK)), src + done, chunk);
		done += chunk;
	}
	return 0;
}

/* A file mapping of [va, va+len) with prot, whose first filesz bytes come
 * from fd at off (the rest reads zero): shared with the image when it may
 * be (fm, not writable), else a private copy. */
static int64_t map_file(uint64_t va, uint64_t len, uint32_t prot, int32_t fd,
			const struct ukf_hc_fmap *fm, int64_t off, uint64_t filesz)
{
	if (fm && !(prot & UKF_PROT_WRITE))
		return share_pages(fm, va, len, (uint64_t)off, (uint64_t)off + filesz, prot);
	int64_t r = populate(va, va + len, prot, 1);
	if (r == 0 && filesz)
		r = fill(fd, fm, va, filesz, off);
	return r;
}

/* Map [va, va+len) (page-aligned) over whatever was there, with prot, and
 * fill it from fd: filesz bytes at off go at va, the rest reads zero. fm
 * is where the file is in the image (ukf_mm_file_in_image), or NULL: the
 * ELF loader asks once per file, not once per segment. */
int64_t ukf_mm_map_file(uint64_t va, uint64_t len, uint32_t prot, int32_t fd,
			const struct ukf_hc_fmap *fm, int64_t off, uint64_t filesz)
{
	if (va < UKF_USER_MIN || va + len < va || va + len > UKF_USER_TOP)
		return -ENOMEM;
	int64_t r = unmap_range(va, va + len);
	if (r == 0)
		r = vma_insert(va, va + len, prot, 0);
	if (r == 0)
		r = map_file(va, len, prot, fd, fm, off, filesz);
	return r;
}

/* Write n bytes at va whatever the page's protection (the syscall-site
 * rewriter patching text): -EFAULT if a page has no frame. */
int64_t ukf_mm_poke(uint64_t va, const void *src, uint64_t n)
{
	const uint8_t *s = src;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t *pte = ukf_pte(va + i, 0);
		if (!pte || !(*pte & UKF_PTE_FRAME) || (*pte & UKF_PTE_SHM))
			return -EFAULT; /* not the runtime's to reach: shared memory */
		if (*pte & UKF_PTE_IMAGE) { /* shared text: patch a copy */
			if (unshare(pte) < 0)
				return -ENOMEM;
			ukf_pt_sync(va + i, va + i + 1);
		}
		*(uint8_t *)ukf_phys((*pte & UKF_PTE_ADDR) + ((va + i) & UKF_PAGE_MASK)) = s[i];
	}
	return 0;
}

/* Reserve len bytes where mmap would put them (PROT_NONE); 0 if no room. */
uint64_t ukf_mm_reserve(uint64_t len)
{
	uint64_t at = find_free(len, mmap_top);
	if (!at || vma_insert(at, at + len, 0, 0) < 0)
		return 0;
	return at;
}

/* An executable area of len bytes for the syscall-site rewriter's stubs,
 * below code at near and within 2 GiB of it; 0 if there is no room. */
uint64_t ukf_mm_stub_area(uint64_t near, uint64_t len)
{
	uint64_t ceiling = UKF_PAGE_DOWN(near);
	uint64_t at = find_free(len, ceiling < mmap_top ? ceiling : mmap_top);
	if (!at || near - at > (UKF_U64(1) << 31) - len ||
	    vma_insert(at, at + len, UKF_PROT_READ | UKF_PROT_EXEC, 0) < 0)
		return 0;
	if (populate(at, at + len, UKF_PROT_READ | UKF_PROT_EXEC, 0) < 0) {
		unmap_range(at, at + len);
		return 0;
	}
	return at;
}

/* Whether va is in memory shared with other processes (a shared object). */
int ukf_mm_is_shm(uint64_t va)
{
	uint64_t *pte = ukf_pte(va, 0);
	return pte && (*pte & UKF_PTE_SHM);
}

/* Whether [va, va+n) is mapped and readable now, without populating. */
int ukf_mm_readable(uint64_t va, uint64_t n)
{
	for (uint64_t a = UKF_PAGE_DOWN(va); a < va + n; a += UKF_PAGE_SIZE) {
		uint64_t *pte = ukf_pte(a, 0);
		if (!pte || !(*pte & UKF_PTE_P))
			return 0;
	}
	return va + n >= va;
}

/* ---- User pointers ------------------------------------------------------------ */

static int prot_allows(uint32_t prot, int write)
{
	if (write)
		return (prot & UKF_PROT_WRITE) != 0;
	return (prot & (UKF_PROT_READ | UKF_PROT_WRITE | UKF_PROT_EXEC)) != 0;
}

/* How much of [p, p+len) the program may access from p on (write: write
 * to), populating it on the way as the faults of Linux's copy would. */
uint64_t ukf_user_access(uint64_t p, uint64_t len, int write)
{
	uint64_t at = p, end = p + len;
	if (len == 0 || end < p || p < UKF_USER_MIN || end > UKF_USER_TOP)
		return 0;
	uint32_t i = vma_first_after(p);
	for (; at < end && i < nvmas; i++) {
		const struct vma *v = &vmas[i];
		if (v->start > at || !prot_allows(v->prot, write))
			break;
		uint64_t stop = v->end < end ? v->end : end;
		if (populate(UKF_PAGE_DOWN(at), UKF_PAGE_UP(stop), v->prot, 0) < 0)
			break;
		at = stop;
	}
	return at - p;
}

/* ---- Demand faults ----------------------------------------------------------- */

/* A page fault at addr (error code err): 0 if it was a page of a mapping
 * not yet populated, now mapped; else the si_code to signal with. */
int ukf_mm_fault(uint64_t addr, uint64_t err)
{
	int write = (err & 2) != 0, fetch = (err & 16) != 0;
	struct vma *v = vma_at(addr);
	if (!v)
		return UKF_SEGV_MAPERR;
	if (!prot_allows(v->prot, write) || (fetch && !(v->prot & UKF_PROT_EXEC)))
		return UKF_SEGV_ACCERR;
	uint64_t *pte = ukf_pte(addr, 0);
	if (pte && (*pte & UKF_PTE_P))
		return UKF_SEGV_ACCERR; /* present and still faulting */
	if (v->flags & VF_SHM)
		return UKF_SEGV_ACCERR; /* a shared object's pages are all mapped */
	uint64_t lo = addr & ~(FAULT_AROUND - 1), hi = lo + FAULT_AROUND;
	if (lo < v->start)
		lo = v->start;
	if (hi > v->end)
		hi = v->end;
	if (populate(UKF_PAGE_DOWN(addr), UKF_PAGE_DOWN(addr) + UKF_PAGE_SIZE, v->prot, 0) < 0)
		out_of_memory();
	populate(lo, hi, v->prot, 0); /* around it, if RAM allows */
	return 0;
}

/* ---- brk ---------------------------------------------------------------- */

/* Like Linux: returns the new break, or the old one when it cannot move. */
UKF_SYSCALL1(brk, uint64_t, addr)
{
	if (addr < brk_start)
		return (int64_t)brk_cur;
	uint64_t old_end = UKF_PAGE_UP(brk_cur), new_end = UKF_PAGE_UP(addr);
	if (new_end < addr || new_end > mmap_top) /* overflow, or into the mappings' area */
		return (int64_t)brk_cur;
	if (new_end > old_end) {
		if (vma_overlaps(old_end, new_end) || nvmas + 1 > VMA_MAX)
			return (int64_t)brk_cur;
		vma_insert(old_end, new_end, UKF_PROT_READ | UKF_PROT_WRITE, VF_HEAP);
		if (new_end - old_end <= EAGER_MAX)
			populate(old_end, new_end, UKF_PROT_READ | UKF_PROT_WRITE, 0);
	} else if (new_end < old_end) {
		if (unmap_range(new_end, old_end) < 0)
			return (int64_t)brk_cur;
	}
	brk_cur = addr;
	return (int64_t)brk_cur;
}

/* ---- Shared objects --------------------------------------------------------- */

/* [start, end), one mapping, may not be made writable (a merged neighbour
 * keeps its own flags). */
static void mark_nowrite(uint64_t start, uint64_t end)
{
	vma_split(start);
	vma_split(end);
	vma_at(start)->flags |= VF_NOWRITE;
}

static void shm_drop_page(uint64_t gpa)
{
	for (uint32_t i = 0; i < nshm; i++)
		if (gpa - shm[i].gpa < shm[i].size) {
			if (shm[i].pages && --shm[i].pages == 0)
				shm[i].gone = 1;
			return;
		}
}

static void shm_flush(void)
{
	for (uint32_t i = 0; i < nshm;) {
		if (!shm[i].gone) {
			i++;
			continue;
		}
		struct ukf_hc_shm h = { .op = UKF_SHM_UNMAP, .gpa = shm[i].gpa };
		ukf_hcall(UKF_HC_SHM, &h);
		shm[i] = shm[--nshm];
	}
}

/* Put the shared object the host has at gpa at [va, va+len) (its mapping
 * made); on failure it is given back. */
static int64_t shm_install(uint64_t va, uint64_t len, uint32_t prot, uint64_t gpa, int sysv)
{
	uint32_t k = nshm++;
	shm[k].gpa = gpa;
	shm[k].size = len;
	shm[k].va = va;
	shm[k].sysv = sysv;
	shm[k].pages = 0;
	shm[k].gone = 0;
	uint64_t bits = pte_bits(prot) | UKF_PTE_SHM;
	for (uint64_t o = 0; o < len; o += UKF_PAGE_SIZE) {
		uint64_t *pte = ukf_pte(va + o, 1);
		if (!pte) {
			if (!shm[k].pages)
				shm[k].gone = 1;
			shm_flush();
			return -ENOMEM; /* the caller unmaps what was mapped */
		}
		*pte = (gpa + o) | bits;
		shm[k].pages++;
	}
	return 0;
}

/* Map a shared object at [va, va+len) (its mapping made): a new
 * anonymous one (fd < 0), or fd's bytes from off. */
static int64_t shm_map(uint64_t va, uint64_t len, uint32_t prot, int32_t fd, int64_t off)
{
	if (nshm == SHM_MAX)
		return -ENOMEM;
	struct ukf_hc_shm h = { .op = fd < 0 ? UKF_SHM_ANON : UKF_SHM_FILE, .fd = fd,
				.size = len, .off = (uint64_t)off, .prot = prot };
	int64_t r = ukf_hcall(UKF_HC_SHM, &h);
	if (r < 0)
		return r;
	if ((r = shm_install(va, len, prot, h.gpa, 0)) < 0)
		return r;
	if (fd >= 0 && !(h.prot & UKF_PROT_WRITE))
		mark_nowrite(va, va + len);
	return 0;
}

/* ---- System V shared memory ------------------------------------------------ */

#define SHM_RDONLY 010000
#define SHM_RND    020000
#define SHM_REMAP  040000
#define SHM_EXEC   0100000

/* The host attaches the segment (a window); the runtime maps it where
 * the program asks, as do_shmat does with do_mmap. */
UKF_SYSCALL3(shmat, int32_t, id, uint64_t, addr, int32_t, flags)
{
	uint64_t start = 0;
	if (addr) {
		if (flags & SHM_RND)
			addr = UKF_PAGE_DOWN(addr); /* SHMLBA is a page */
		else if (addr & UKF_PAGE_MASK)
			return -EINVAL;
		start = addr;
	}
	if (nshm == SHM_MAX || nvmas + 3 > VMA_MAX)
		return -ENOMEM;
	struct ukf_hc_ipc h = { .op = UKF_IPC_SHMAT, .id = id, .flags = flags };
	int64_t r = ukf_hcall(UKF_HC_IPC, &h);
	if (r < 0)
		return r;
	uint64_t len = UKF_PAGE_UP(h.size);
	uint32_t prot = UKF_PROT_READ;
	if (!(flags & SHM_RDONLY))
		prot |= UKF_PROT_WRITE;
	if (flags & SHM_EXEC)
		prot |= UKF_PROT_EXEC;
	r = 0;
	if (start) {
		if (start < UKF_USER_MIN || start + len < start || start + len > UKF_USER_TOP)
			r = -EINVAL;
		else if (!(flags & SHM_REMAP) && vma_overlaps(start, start + len))
			r = -EINVAL;
		else
			r = unmap_range(start, start + len);
	} else if (!(start = find_free(len, mmap_top))) {
		r = -ENOMEM;
	}
	if (r == 0)
		r = vma_insert(start, start + len, prot, VF_SHARED | VF_SHM);
	if (r < 0) {
		struct ukf_hc_shm u = { .op = UKF_SHM_UNMAP, .gpa = h.gpa };
		ukf_hcall(UKF_HC_SHM, &u);
		return r;
	}
	if ((r = shm_install(start, len, prot, h.gpa, 1)) < 0) {
		unmap_range(start, start + len);
		return r;
	}
	return (int64_t)start;
}

UKF_SYSCALL1(shmdt, uint64_t, addr)
{
	for (uint32_t i = 0; i < nshm; i++)
		if (shm[i].sysv && shm[i].va == addr && !shm[i].gone)
			return unmap_range(addr, addr + shm[i].size);
	return -EINVAL;
}

/* ---- mmap --------------------------------------------------------------- */

#define MAP_KNOWN_FLAGS                                                        \
	(UKF_MAP_TYPE | UKF_MAP_FIXED | UKF_MAP_ANONYMOUS | UKF_MAP_32BIT |    \
	 UKF_MAP_GROWSDOWN | UKF_MAP_DENYWRITE | UKF_MAP_EXECUTABLE |          \
	 UKF_MAP_LOCKED | UKF_MAP_NORESERVE | UKF_MAP_POPULATE |               \
	 UKF_MAP_NONBLOCK | UKF_MAP_STACK | UKF_MAP_HUGETLB | UKF_MAP_SYNC |   \
	 UKF_MAP_FIXED_NOREPLACE | UKF_MAP_UNINITIALIZED | UKF_MAP_HUGE_MASK)

UKF_SYSCALL6(mmap, uint64_t, addr, uint64_t, length, uint32_t, prot,
	     uint32_t, flags, int32_t, fd, int64_t, off)
{
	uint32_t type = flags & UKF_MAP_TYPE;
	int anon = (flags & UKF_MAP_ANONYMOUS) != 0;

	if (length == 0)
		return -EINVAL;
	if (type == UKF_MAP_SHARED_VALIDATE) {
		/* Refuse flags we do not know, as Linux does for this type. */
		if (flags & ~MAP_KNOWN_FLAGS)
			return -EOPNOTSUPP;
		type = UKF_MAP_SHARED;
	} else if (type != UKF_MAP_SHARED && type != UKF_MAP_PRIVATE) {
		return -EINVAL;
	}
	if (!anon && ((uint64_t)off & UKF_PAGE_MASK))
		return -EINVAL;
	uint64_t len = UKF_PAGE_UP(length);
	if (len < length || len > UKF_USER_TOP - UKF_USER_MIN)
		return -ENOMEM;
	if (!anon && (off < 0 || (uint64_t)off + len < (uint64_t)off))
		return -EOVERFLOW;
	if (nvmas + 3 > VMA_MAX)
		return -ENOMEM;

	uint64_t start;
	if (flags & (UKF_MAP_FIXED | UKF_MAP_FIXED_NOREPLACE)) {
		if (addr & UKF_PAGE_MASK)
			return -EINVAL;
		if (addr < UKF_USER_MIN || addr + len < addr || addr + len > UKF_USER_TOP)
			return -ENOMEM;
		start = addr;
		if (flags & UKF_MAP_FIXED_NOREPLACE) { /* wins over MAP_FIXED */
			if (vma_overlaps(start, start + len))
				return -EEXIST;
		} else {
			int64_t r = unmap_range(start, start + len);
			if (r < 0)
				return r;
		}
	} else {
		uint64_t ceiling = mmap_top;
		if ((flags & UKF_MAP_32BIT) && ceiling > (UKF_U64(2) << 30))
			ceiling = UKF_U64(2) << 30;
		uint64_t hint = UKF_PAGE_UP(addr);
		if (addr && hint >= addr && hint + len > hint &&
		    range_free(hint, hint + len, UKF_USER_TOP))
			start = hint;
		else if (!(start = find_free(len, ceiling)))
			return -ENOMEM;
	}

	/* A shared mapping is a shared object: anonymous memory, or the file's
	 * bytes as the host has them. A read-only one of an image file is its
	 * image pages, which no one writes; so is one of a file the host cannot
	 * share (ENODEV), as a copy. Neither may be made writable. */
	uint32_t vf = type == UKF_MAP_SHARED ? VF_SHARED : 0;
	struct ukf_hc_fmap fm;
	/* A writable shared one never maps the image: no need to ask. */
	int writable_shared = type == UKF_MAP_SHARED && (prot & UKF_PROT_WRITE);
	int in_image = !anon && !writable_shared && ukf_mm_file_in_image(fd, &fm);
	if (type == UKF_MAP_SHARED && (anon || !in_image))
		vf |= VF_SHM;
	int64_t r = vma_insert(start, start + len, prot, vf);
	if (r < 0)
		return r;
	if (vf & VF_SHM) {
		r = shm_map(start, len, prot, anon ? -1 : fd, off);
		if (r == -ENODEV && !anon && !(prot & UKF_PROT_WRITE)) {
			vma_split(start);
			vma_split(start + len);
			vma_at(start)->flags &= ~VF_SHM;
			mark_nowrite(start, start + len);
			r = map_file(start, len, prot, fd, 0, off, len);
		}
		if (r < 0) {
			unmap_range(start, start + len);
			return r == -EISDIR || r == -ESPIPE ? -ENODEV : r; /* no mmap there */
		}
	} else if (!anon) {
		if (type == UKF_MAP_SHARED)
			mark_nowrite(start, start + len);
		r = map_file(start, len, prot, fd, in_image ? &fm : 0, off, len);
		if (r < 0) {
			unmap_range(start, start + len);
			return r == -EISDIR || r == -ESPIPE ? -ENODEV : r; /* no mmap there */
		}
	} else if (len <= EAGER_MAX || (flags & (UKF_MAP_POPULATE | UKF_MAP_LOCKED))) {
		populate(start, start + len, prot, 0); /* what RAM allows; the rest on demand */
	}
	return (int64_t)start;
}

UKF_SYSCALL2(munmap, uint64_t, addr, uint64_t, length)
{
	/* Linux: page-aligned, inside the user address space, not empty. */
	if ((addr & UKF_PAGE_MASK) || addr > UKF_TASK_SIZE ||
	    length > UKF_TASK_SIZE - addr || length == 0)
		return -EINVAL;
	uint64_t len = UKF_PAGE_UP(length), end = addr + len;
	if (addr < UKF_USER_MIN)
		addr = UKF_USER_MIN;
	if (end > UKF_USER_TOP)
		end = UKF_USER_TOP;
	if (addr >= end)
		return 0;
	if (nvmas + 2 > VMA_MAX)
		return -ENOMEM;
	return unmap_range(addr, end);
}

/* ---- mremap ------------------------------------------------------------- */

struct move { uint64_t delta; int sync, failed; };

static void move_page(uint64_t *pte, uint64_t va, void *ctx)
{
	struct move *m = ctx;
	if (!(*pte & UKF_PTE_FRAME))
		return;
	uint64_t *to = ukf_pte(va + m->delta, 1);
	if (!to) {
		m->failed = 1;
		return;
	}
	*to = *pte;
	if (*pte & UKF_PTE_P)
		m->sync = 1;
	*pte = 0;
}

/* Move [old, old+old_len) to dst (new_len bytes, free): the frames move,
 * nothing is copied; the old range is unmapped, or with dontunmap stays
 * mapped and reads zero. */
static int64_t remap_move(uint64_t old, uint64_t old_len, uint64_t dst,
			  uint64_t new_len, int dontunmap)
{
	struct vma v = *vma_at(old);
	int64_t r = vma_insert(dst, dst + new_len, v.prot, v.flags & ~(VF_HEAP | VF_STACK));
	if (r < 0)
		return r;
	uint64_t moved = old_len < new_len ? old_len : new_len;
	struct move m = { dst - old, 0, 0 };
	ukf_pt_each(old, old + moved, move_page, &m);
	if (m.sync)
		ukf_pt_sync(old, old + moved);
	if (m.failed) {
		ukf_log("ukfork: mremap: out of guest memory for page tables\n");
		ukf_die(UKF_SIGKILL);
	}
	if (dontunmap)
		drop_pages(old, old + old_len);
	else
		unmap_range(old, old + old_len);
	return (int64_t)dst;
}

UKF_SYSCALL5(mremap, uint64_t, old, uint64_t, old_size, uint64_t, new_size,
	     uint32_t, flags, uint64_t, new_addr)
{
	if (flags & ~(uint32_t)(UKF_MREMAP_MAYMOVE | UKF_MREMAP_FIXED | UKF_MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & (UKF_MREMAP_FIXED | UKF_MREMAP_DONTUNMAP)) &&
	    !(flags & UKF_MREMAP_MAYMOVE))
		return -EINVAL;
	if (old & UKF_PAGE_MASK)
		return -EINVAL;
	uint64_t old_len = UKF_PAGE_UP(old_size), new_len = UKF_PAGE_UP(new_size);
	if (new_len == 0 || new_len < new_size || old_len < old_size)
		return -EINVAL;
	/* old_size 0 duplicates a shared mapping; all ours are private. */
	if (old_len == 0)
		return -EINVAL;
	if ((flags & UKF_MREMAP_DONTUNMAP) && old_len != new_len)
		return -EINVAL;
	if (old + old_len < old || !vma_covered(old, old + old_len))
		return -EFAULT;
	/* Linux moves one mapping only. */
	struct vma *v = vma_at(old);
	if (v->end < old + old_len)
		return -EFAULT;
	/* A shared object does not grow (Linux grows its shmem file). */
	if ((v->flags & VF_SHM) && new_len > old_len)
		return -ENOMEM;
	if (nvmas + 4 > VMA_MAX)
		return -ENOMEM;

	if (flags & UKF_MREMAP_FIXED) {
		if (new_addr & UKF_PAGE_MASK)
			return -EINVAL;
		if (new_addr + new_len < new_addr || new_addr < UKF_USER_MIN ||
		    new_addr + new_len > UKF_USER_TOP)
			return -ENOMEM;
		if (new_addr < old + old_len && old < new_addr + new_len)
			return -EINVAL;
		unmap_range(new_addr, new_addr + new_len);
		return remap_move(old, old_len, new_addr, new_len,
				  flags & UKF_MREMAP_DONTUNMAP);
	}
	if (flags & UKF_MREMAP_DONTUNMAP) {
		uint64_t dst = find_free(new_len, mmap_top);
		if (!dst)
			return -ENOMEM;
		return remap_move(old, old_len, dst, new_len, 1);
	}
	if (new_len <= old_len) {
		unmap_range(old + new_len, old + old_len);
		return (int64_t)old;
	}
	/* Grow in place when the pages after the mapping are free. */
	uint64_t end = old + old_len, new_end = old + new_len;
	if (new_end > old && new_end <= UKF_USER_TOP && !vma_overlaps(end, new_end) &&
	    !(v->flags & VF_STACK)) {
		int64_t r = vma_insert(end, new_end, v->prot, v->flags & ~VF_HEAP);
		if (r < 0)
			return r;
		return (int64_t)old;
	}
	if (!(flags & UKF_MREMAP_MAYMOVE))
		return -ENOMEM;
	uint64_t dst = find_free(new_len, mmap_top);
	if (!dst)
		return -ENOMEM;
	return remap_move(old, old_len, dst, new_len, 0);
}

/* ---- mprotect and advice ------------------------------------------------------ */

/* Validate [addr, addr+len) like Linux's range checks; 1 if empty. */
static int64_t check_range(uint64_t addr, uint64_t length, uint64_t *end)
{
	if (addr & UKF_PAGE_MASK)
		return -EINVAL;
	uint64_t len = UKF_PAGE_UP(length);
	if (len < length || addr + len < addr)
		return -ENOMEM;
	if (len == 0)
		return 1;
	if (addr < UKF_USER_MIN || addr + len > UKF_USER_TOP)
		return -ENOMEM;
	*end = addr + len;
	return 0;
}

UKF_SYSCALL3(mprotect, uint64_t, addr, uint64_t, length, uint32_t, prot)
{
	uint64_t end;

	if (prot & ~(uint32_t)(UKF_PROT_READ | UKF_PROT_WRITE | UKF_PROT_EXEC |
			       UKF_PROT_SEM | UKF_PROT_GROWSDOWN | UKF_PROT_GROWSUP))
		return -EINVAL;
	if ((prot & UKF_PROT_GROWSDOWN) && (prot & UKF_PROT_GROWSUP))
		return -EINVAL;
	int64_t r = check_range(addr, length, &end);
	if (r)
		return r < 0 ? r : 0;
	/* Linux: ENOMEM when part of the range is not mapped. */
	if (!vma_covered(addr, end))
		return -ENOMEM;
	if (nvmas + 2 > VMA_MAX)
		return -ENOMEM;
	prot &= UKF_PROT_READ | UKF_PROT_WRITE | UKF_PROT_EXEC;
	if (prot & UKF_PROT_WRITE)
		for (uint32_t i = vma_first_after(addr); i < nvmas && vmas[i].start < end; i++)
			if (vmas[i].flags & VF_NOWRITE)
				return -EACCES; /* its file is not open for writing */
	vma_split(addr);
	vma_split(end);
	for (uint32_t i = vma_first_after(addr); i < nvmas && vmas[i].start < end; i++)
		vmas[i].prot = prot;
	protect_pages(addr, end, prot);
	uint32_t i = vma_first_after(addr);
	while (i < nvmas && vmas[i].start < end) {
		uint32_t before = nvmas;
		vma_merge(i);
		if (nvmas == before)
			i++;
		else if (i > 0 && vmas[i - 1].end > vmas[i].start)
			i--;
	}
	return 0;
}

static void zero_page(uint64_t *pte, uint64_t va, void *ctx)
{
	(void)va;
	(void)ctx;
	/* A page of the image already reads as the file does, which is what
	 * a private file mapping reads after MADV_DONTNEED. */
	if ((*pte & UKF_PTE_FRAME) && !(*pte & (UKF_PTE_IMAGE | UKF_PTE_SHM)))
		memset(ukf_phys(*pte & UKF_PTE_ADDR), 0, UKF_PAGE_SIZE);
}

UKF_SYSCALL3(madvise, uint64_t, addr, uint64_t, length, int32_t, advice)
{
	uint64_t end;

	if (advice < 0 || (advice > UKF_MADV_MAX_KNOWN &&
			   advice != UKF_MADV_HWPOISON && advice != UKF_MADV_SOFT_OFFLINE))
		return -EINVAL;
	int64_t r = check_range(addr, length, &end);
	if (r)
		return r < 0 ? r : 0;
	switch (advice) {
	case UKF_MADV_FREE:
		/* The contents may stay until memory is short, and a guest
		 * refaulting pages is what costs most here: keep them. */
		return vma_covered(addr, end) ? 0 : -ENOMEM;
	case UKF_MADV_DONTNEED:
	case UKF_MADV_DONTNEED_LOCKED:
	case UKF_MADV_REMOVE:
		if (!vma_covered(addr, end))
			return -ENOMEM;
		/* Private anonymous memory reads zero after these. Small
		 * ranges are cleared in place: cheaper than refaulting. A
		 * shared object keeps its contents (what its other
		 * mappings see, and this one again). */
		for (uint32_t i = vma_first_after(addr); i < nvmas && vmas[i].start < end; i++) {
			if (vmas[i].flags & VF_SHM)
				continue;
			uint64_t lo = vmas[i].start > addr ? vmas[i].start : addr;
			uint64_t hi = vmas[i].end < end ? vmas[i].end : end;
			if (hi - lo <= MADV_CLEAR_MAX)
				ukf_pt_each(lo, hi, zero_page, 0);
			else
				drop_pages(lo, hi);
		}
		return 0;
	case UKF_MADV_HWPOISON:
	case UKF_MADV_SOFT_OFFLINE:
		return -EPERM;
	default:
		return 0;
	}
}

/* A shared mapping is its file's pages as the host has them, coherent with
 * read(2) already: nothing to write back here (fsync makes a volume's file
 * durable). */
UKF_SYSCALL3(msync, uint64_t, addr, uint64_t, length, uint32_t, flags)
{
	uint64_t end;

	if (flags & ~(uint32_t)(UKF_MS_ASYNC | UKF_MS_INVALIDATE | UKF_MS_SYNC))
		return -EINVAL;
	if ((flags & UKF_MS_ASYNC) && (flags & UKF_MS_SYNC))
		return -EINVAL;
	int64_t r = check_range(addr, length, &end);
	if (r)
		return r < 0 ? r : 0;
	return vma_covered(addr, end) ? 0 : -ENOMEM;
}

/* Guest memory is never paged out by the guest: locking populates. */
static int64_t lock_range(uint64_t addr, uint64_t length)
{
	uint64_t end;
	int64_t r = check_range(UKF_PAGE_DOWN(addr), length + (addr & UKF_PAGE_MASK), &end);
	if (r)
		return r < 0 ? r : 0;
	if (!vma_covered(UKF_PAGE_DOWN(addr), end))
		return -ENOMEM;
	for (uint64_t a = UKF_PAGE_DOWN(addr); a < end;) {
		struct vma *v = vma_at(a);
		uint64_t stop = v->end < end ? v->end : end;
		if (populate(a, stop, v->prot, 0) < 0)
			return -ENOMEM;
		a = stop;
	}
	return 0;
}

UKF_SYSCALL2(mlock, uint64_t, addr, uint64_t, length)
{
	return lock_range(addr, length);
}

UKF_SYSCALL2(munlock, uint64_t, addr, uint64_t, length)
{
	uint64_t end;
	int64_t r = check_range(UKF_PAGE_DOWN(addr), length + (addr & UKF_PAGE_MASK), &end);
	if (r)
		return r < 0 ? r : 0;
	return vma_covered(UKF_PAGE_DOWN(addr), end) ? 0 : -ENOMEM;
}

UKF_SYSCALL1(mlockall, uint32_t, flags)
{
	/* MCL_CURRENT 1, MCL_FUTURE 2, MCL_ONFAULT 4 (not alone). */
	if (!flags || (flags & ~7u) || flags == 4)
		return -EINVAL;
	return 0;
}

UKF_SYSCALL0(munlockall)
{
	return 0;
}
