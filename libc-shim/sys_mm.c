/* Memory syscalls: brk, mmap, munmap, mremap, mprotect, madvise, msync, mlock. */
#include "shim.h"

/* Layout of the program's part of guest RAM (all identity mapped, RWX):
 *
 *   UKF_USER_MIN  image  brk_start .. brk ->   <- mappings   stack_bottom  stack  mem_size
 *
 * There is no page protection: every page of guest RAM is always readable,
 * writable and executable, so mprotect only validates its arguments and
 * PROT_NONE reservations are ordinary memory. What this file tracks is which
 * ranges are in use, so that mmap hands out free memory.
 *
 * Invariant: free memory reads as zero (fresh memfd pages, or given back with
 * UKF_HC_DISCARD), except the ranges in the dirty set: memory freed recently
 * and kept, to be cleared when it is handed out again. Under PVM the first
 * touch of a page the host must supply costs ~12 us, while clearing a page we
 * still hold costs ~0.1 us, so a malloc that frees and reallocates big blocks
 * would otherwise spend its time in page faults. The set is bounded
 * (dirty_max), past which it is given back to the host. */

#define VMA_MAX 8192

struct vma {
	uint64_t start, end;
	uint32_t prot, flags;
};

static struct vma vmas[VMA_MAX]; /* sorted by start, never overlapping */
static uint32_t nvmas;
static uint64_t brk_start, brk_cur, stack_bottom;

void ukf_mm_init(uint64_t brk_start_, uint64_t stack_bottom_)
{
	brk_start = brk_cur = UKF_PAGE_UP(brk_start_);
	stack_bottom = UKF_PAGE_DOWN(stack_bottom_);
	nvmas = 0;
}

uint64_t ukf_mm_used(void)
{
	uint64_t used = (UKF_PAGE_UP(brk_cur) - UKF_USER_MIN) +
			(ukf_boot->mem_size - stack_bottom);
	for (uint32_t i = 0; i < nvmas; i++)
		used += vmas[i].end - vmas[i].start;
	return used;
}

/* ---- The dirty set -------------------------------------------------------- */

#define DIRTY_SLOTS 256
#define MADV_CLEAR_MAX (1ULL << 20)

static struct { uint64_t start, end; } dirty[DIRTY_SLOTS];
static uint32_t ndirty;
static uint64_t dirty_bytes;

/* At most 64 MiB or a quarter of guest RAM is kept dirty. */
static uint64_t dirty_max(void)
{
	uint64_t q = ukf_boot->mem_size / 4;
	return q < (64ULL << 20) ? q : (64ULL << 20);
}

static int64_t hc_discard(uint64_t start, uint64_t end)
{
	struct ukf_hc_discard d = { .addr = start, .len = end - start };
	return ukf_hcall(UKF_HC_DISCARD, &d);
}

/* Take [start, end) out of the dirty set, clearing what was dirty if clear. */
static void dirty_take(uint64_t start, uint64_t end, int clear)
{
	for (uint32_t i = 0; i < ndirty;) {
		uint64_t ds = dirty[i].start, de = dirty[i].end;
		uint64_t lo = ds > start ? ds : start, hi = de < end ? de : end;
		if (lo >= hi) {
			i++;
			continue;
		}
		if (ds < lo && de > hi && ndirty == DIRTY_SLOTS) {
			/* No slot for the split: clear the tail as well. */
			hi = de;
		}
		if (clear)
			memset(UKF_UPTR(void, lo), 0, hi - lo);
		dirty_bytes -= hi - lo;
		if (ds < lo && de > hi) {
			dirty[ndirty].start = hi;
			dirty[ndirty++].end = de;
			dirty[i++].end = lo;
		} else if (ds < lo) {
			dirty[i++].end = lo;
		} else if (de > hi) {
			dirty[i++].start = hi;
		} else {
			dirty[i] = dirty[--ndirty];
		}
	}
}

static void dirty_flush(void)
{
	for (uint32_t i = 0; i < ndirty; i++)
		hc_discard(dirty[i].start, dirty[i].end);
	ndirty = 0;
	dirty_bytes = 0;
}

/* Free [start, end): keep it dirty, or give it back when the set is full. */
static void mm_release(uint64_t start, uint64_t end)
{
	if (start >= end)
		return;
	if (end - start > dirty_max()) {
		dirty_take(start, end, 0);
		hc_discard(start, end);
		return;
	}
	if (dirty_bytes + (end - start) > dirty_max()) {
		/* Keep what is there: it is what the allocator reuses first. */
		dirty_take(start, end, 0);
		hc_discard(start, end);
		return;
	}
	if (ndirty == DIRTY_SLOTS)
		dirty_flush();
	dirty_bytes += end - start;
	for (uint32_t i = 0; i < ndirty; i++) {
		if (dirty[i].end == start) {
			dirty[i].end = end;
			return;
		}
		if (dirty[i].start == end) {
			dirty[i].start = start;
			return;
		}
	}
	dirty[ndirty].start = start;
	dirty[ndirty++].end = end;
}

/* Memory about to be handed out must read zero. */
static void mm_claim(uint64_t start, uint64_t end)
{
	if (ndirty)
		dirty_take(start, end, 1);
}

/* execve: the whole program area goes back to the host at once. */
void ukf_mm_reset(void)
{
	ndirty = 0;
	dirty_bytes = 0;
	nvmas = 0;
	hc_discard(UKF_USER_MIN, ukf_boot->mem_size);
}

/* Make [start, end) read zero now, giving it back to the host. */
int64_t ukf_discard(uint64_t start, uint64_t end)
{
	if (start >= end)
		return 0;
	dirty_take(start, end, 0);
	return hc_discard(start, end);
}

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

static int vma_overlaps(uint64_t start, uint64_t end)
{
	uint32_t i = vma_first_after(start);
	return i < nvmas && vmas[i].start < end;
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
	return 0;
}

/* Forget every mapping in [start, end), splitting the ones that straddle it;
 * with discard, give the forgotten memory back. Needs one free slot when the
 * range is inside a single mapping. */
static int64_t vma_remove(uint64_t start, uint64_t end, int discard)
{
	uint32_t i = vma_first_after(start);

	if (start >= end)
		return 0;
	if (i < nvmas && vmas[i].start < start && vmas[i].end > end) {
		if (nvmas == VMA_MAX)
			return -ENOMEM;
		memmove(&vmas[i + 1], &vmas[i], (nvmas - i) * sizeof(vmas[0]));
		nvmas++;
		vmas[i].end = start;
		vmas[i + 1].start = end;
		if (discard)
			mm_release(start, end);
		return 0;
	}
	uint32_t first_gone = i, ngone = 0;
	for (; i < nvmas && vmas[i].start < end; i++) {
		uint64_t s = vmas[i].start > start ? vmas[i].start : start;
		uint64_t e = vmas[i].end < end ? vmas[i].end : end;
		if (discard)
			mm_release(s, e);
		if (vmas[i].start < start) {            /* keep the head */
			vmas[i].end = start;
			first_gone = i + 1;
		} else if (vmas[i].end > end) {         /* keep the tail */
			vmas[i].start = end;
		} else {
			ngone++;
		}
	}
	memmove(&vmas[first_gone], &vmas[first_gone + ngone],
		(nvmas - first_gone - ngone) * sizeof(vmas[0]));
	nvmas -= ngone;
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

/* Lowest address mappings may use: above the current break. */
static uint64_t mm_floor(void)
{
	return UKF_PAGE_UP(brk_cur);
}

/* Whether [start, end) is free for a new mapping without MAP_FIXED. */
static int range_free(uint64_t start, uint64_t end, uint64_t ceiling)
{
	return start >= mm_floor() && end <= ceiling && start < end &&
	       !vma_overlaps(start, end);
}

/* Highest free range of len bytes below ceiling (top-down, like Linux). */
static uint64_t find_free(uint64_t len, uint64_t ceiling)
{
	uint64_t floor = mm_floor(), top = ceiling;

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

/* ---- brk ---------------------------------------------------------------- */

/* Like Linux: returns the new break, or the old one when it cannot move. */
UKF_SYSCALL1(brk, uint64_t, addr)
{
	if (addr < brk_start)
		return (int64_t)brk_cur;
	uint64_t old_end = UKF_PAGE_UP(brk_cur), new_end = UKF_PAGE_UP(addr);
	if (new_end < addr) /* overflow */
		return (int64_t)brk_cur;
	if (new_end > old_end) {
		if (new_end > stack_bottom || vma_overlaps(old_end, new_end))
			return (int64_t)brk_cur;
		mm_claim(old_end, new_end);
	} else {
		mm_release(new_end, old_end);
	}
	brk_cur = addr;
	return (int64_t)brk_cur;
}

/* ---- mmap --------------------------------------------------------------- */

/* Copy a file range into fresh memory; bytes past EOF stay zero. */
static int64_t fill_from_file(int32_t fd, uint64_t addr, uint64_t len, int64_t off)
{
	while (len) {
		struct ukf_iovec iov = { .base = addr, .len = len };
		struct ukf_hc_rw rw = {
			.fd = fd, .flags = UKF_RW_OFFSET,
			.iov = (uint64_t)(uintptr_t)&iov, .iovcnt = 1, .offset = off,
		};
		int64_t n = ukf_hcall(UKF_HC_READV, &rw);
		if (n < 0)
			return n == -EISDIR ? -ENODEV : n;
		if (n == 0)
			break;
		addr += (uint64_t)n;
		len -= (uint64_t)n;
		off += n;
	}
	return 0;
}

#define MAP_KNOWN_FLAGS                                                        \
	(UKF_MAP_TYPE | UKF_MAP_FIXED | UKF_MAP_ANONYMOUS | UKF_MAP_32BIT |    \
	 UKF_MAP_GROWSDOWN | UKF_MAP_DENYWRITE | UKF_MAP_EXECUTABLE |          \
	 UKF_MAP_LOCKED | UKF_MAP_NORESERVE | UKF_MAP_POPULATE |               \
	 UKF_MAP_NONBLOCK | UKF_MAP_STACK | UKF_MAP_HUGETLB | UKF_MAP_SYNC |   \
	 UKF_MAP_FIXED_NOREPLACE | UKF_MAP_UNINITIALIZED | UKF_MAP_HUGE_MASK)

UKF_SYSCALL6(mmap, uint64_t, addr, uint64_t, length, uint32_t, prot,
	     uint32_t, flags, int32_t, fd, int64_t, off)
{
	uint64_t mem = ukf_boot->mem_size;
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
	if (len < length || len > mem)
		return -ENOMEM;
	if (!anon && (off < 0 || (uint64_t)off + len < (uint64_t)off))
		return -EOVERFLOW;
	/* Image files are read-only and there is no second address space to
	 * share with, so a writable shared file mapping cannot be honoured. */
	if (!anon && type == UKF_MAP_SHARED && (prot & UKF_PROT_WRITE))
		return -EACCES;

	uint64_t start;
	if (flags & (UKF_MAP_FIXED | UKF_MAP_FIXED_NOREPLACE)) {
		if (addr & UKF_PAGE_MASK)
			return -EINVAL;
		if (addr < UKF_USER_MIN || addr + len < addr || addr + len > mem)
			return -ENOMEM;
		start = addr;
		if (flags & UKF_MAP_FIXED_NOREPLACE) { /* wins over MAP_FIXED */
			/* NOREPLACE: the image, heap and stack count as mapped. */
			if (vma_overlaps(start, start + len) || start < mm_floor() ||
			    start + len > stack_bottom)
				return -EEXIST;
		} else {
			if (nvmas + 2 > VMA_MAX)
				return -ENOMEM;
			/* Whatever was there (a mapping, image, heap or stack) is
			 * replaced by zero pages. */
			vma_remove(start, start + len, 0);
			ukf_discard(start, start + len);
		}
	} else {
		uint64_t ceiling = stack_bottom;
		if ((flags & UKF_MAP_32BIT) && ceiling > (2ULL << 30))
			ceiling = 2ULL << 30;
		uint64_t hint = UKF_PAGE_UP(addr);
		if (addr && hint >= addr && hint + len > hint &&
		    range_free(hint, hint + len, ceiling))
			start = hint;
		else if (!(start = find_free(len, ceiling)))
			return -ENOMEM;
	}

	int64_t r = vma_insert(start, start + len, prot, flags);
	if (r < 0)
		return r;
	mm_claim(start, start + len);
	if (!anon) {
		r = fill_from_file(fd, start, len, off);
		if (r < 0) {
			vma_remove(start, start + len, 1);
			return r;
		}
	}
	return (int64_t)start;
}

UKF_SYSCALL2(munmap, uint64_t, addr, uint64_t, length)
{
	/* Linux: page-aligned, inside the user address space, not empty. */
	if ((addr & UKF_PAGE_MASK) || addr > UKF_TASK_SIZE ||
	    length > UKF_TASK_SIZE - addr || length == 0)
		return -EINVAL;
	uint64_t len = UKF_PAGE_UP(length);
	/* Only tracked mappings are given back: unmapping part of the image,
	 * heap or stack is not supported and is a no-op. */
	return vma_remove(addr, addr + len, 1);
}

/* ---- mremap ------------------------------------------------------------- */

/* Move [old, old+old_len) to dst (new_len bytes, dst already free or
 * replaced), copying the overlap, then give back the old range. */
static int64_t remap_move(uint64_t old, uint64_t old_len, uint64_t dst,
			  uint64_t new_len, int dontunmap)
{
	uint32_t i = vma_first_after(old);
	uint32_t prot = vmas[i].prot, flags = vmas[i].flags;
	int64_t r = vma_insert(dst, dst + new_len, prot, flags);
	if (r < 0)
		return r;
	mm_claim(dst, dst + new_len);
	memcpy(UKF_UPTR(void, dst), UKF_UPTR(const void, old),
	       old_len < new_len ? old_len : new_len);
	if (dontunmap)
		ukf_discard(old, old + old_len); /* stays mapped, reads zero */
	else
		vma_remove(old, old + old_len, 1);
	return (int64_t)dst;
}

UKF_SYSCALL5(mremap, uint64_t, old, uint64_t, old_size, uint64_t, new_size,
	     uint32_t, flags, uint64_t, new_addr)
{
	uint64_t mem = ukf_boot->mem_size;

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
	/* Every move needs up to two new slots (split + insert). */
	if (nvmas + 2 > VMA_MAX)
		return -ENOMEM;

	if (flags & UKF_MREMAP_FIXED) {
		if (new_addr & UKF_PAGE_MASK)
			return -EINVAL;
		if (new_addr + new_len < new_addr || new_addr < UKF_USER_MIN ||
		    new_addr + new_len > mem)
			return -ENOMEM;
		if (new_addr < old + old_len && old < new_addr + new_len)
			return -EINVAL;
		vma_remove(new_addr, new_addr + new_len, 0);
		ukf_discard(new_addr, new_addr + new_len);
		return remap_move(old, old_len, new_addr, new_len,
				  flags & UKF_MREMAP_DONTUNMAP);
	}
	if (flags & UKF_MREMAP_DONTUNMAP) {
		uint64_t dst = find_free(new_len, stack_bottom);
		if (!dst)
			return -ENOMEM;
		return remap_move(old, old_len, dst, new_len, 1);
	}
	if (new_len <= old_len) {
		vma_remove(old + new_len, old + old_len, 1);
		return (int64_t)old;
	}
	/* Grow in place when the pages after the mapping are free. */
	uint64_t end = old + old_len, new_end = old + new_len;
	if (new_end > old && !vma_overlaps(end, new_end) && new_end <= stack_bottom &&
	    end >= mm_floor()) {
		uint32_t i = vma_first_after(end - 1);
		vmas[i].end = new_end;
		mm_claim(end, new_end);
		return (int64_t)old;
	}
	if (!(flags & UKF_MREMAP_MAYMOVE))
		return -ENOMEM;
	uint64_t dst = find_free(new_len, stack_bottom);
	if (!dst)
		return -ENOMEM;
	return remap_move(old, old_len, dst, new_len, 0);
}

/* ---- Advisory calls --------------------------------------------------------- */

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
	if (addr < UKF_USER_MIN || addr + len > ukf_boot->mem_size)
		return -ENOMEM;
	*end = addr + len;
	return 0;
}

/* No page protection exists: validate and succeed. */
UKF_SYSCALL3(mprotect, uint64_t, addr, uint64_t, length, uint32_t, prot)
{
	uint64_t end;

	if (prot & ~(uint32_t)(UKF_PROT_READ | UKF_PROT_WRITE | UKF_PROT_EXEC |
			       UKF_PROT_SEM | UKF_PROT_GROWSDOWN | UKF_PROT_GROWSUP))
		return -EINVAL;
	int64_t r = check_range(addr, length, &end);
	return r < 0 ? r : 0;
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
		return 0;
	case UKF_MADV_DONTNEED:
	case UKF_MADV_DONTNEED_LOCKED:
	case UKF_MADV_REMOVE:
		/* Private anonymous memory reads zero after these. Small
		 * ranges are cleared in place: cheaper than refaulting. */
		if (end - addr <= MADV_CLEAR_MAX) {
			dirty_take(addr, end, 0);
			memset(UKF_UPTR(void, addr), 0, end - addr);
			return 0;
		}
		r = ukf_discard(addr, end);
		return r < 0 ? r : 0;
	case UKF_MADV_HWPOISON:
	case UKF_MADV_SOFT_OFFLINE:
		return -EPERM;
	default:
		return 0;
	}
}

/* All mappings are private copies: nothing to write back. */
UKF_SYSCALL3(msync, uint64_t, addr, uint64_t, length, uint32_t, flags)
{
	uint64_t end;

	if (flags & ~(uint32_t)(UKF_MS_ASYNC | UKF_MS_INVALIDATE | UKF_MS_SYNC))
		return -EINVAL;
	if ((flags & UKF_MS_ASYNC) && (flags & UKF_MS_SYNC))
		return -EINVAL;
	int64_t r = check_range(addr, length, &end);
	return r < 0 ? r : 0;
}

/* Guest memory is never paged out by the guest: locking is a no-op. */
UKF_SYSCALL2(mlock, uint64_t, addr, uint64_t, length)
{
	uint64_t end;
	int64_t r = check_range(UKF_PAGE_DOWN(addr), length + (addr & UKF_PAGE_MASK), &end);
	return r < 0 ? r : 0;
}

UKF_SYSCALL2(munlock, uint64_t, addr, uint64_t, length)
{
	uint64_t end;
	int64_t r = check_range(UKF_PAGE_DOWN(addr), length + (addr & UKF_PAGE_MASK), &end);
	return r < 0 ? r : 0;
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
