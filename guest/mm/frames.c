/* Frames: the guest RAM pages the runtime hands out to the program's
 * mappings and to page tables, from UKF_FRAMES_MIN to the bookkeeping at the
 * top of RAM.
 *
 * A frame is clean (reads zero: fresh from the host, or given back with
 * UKF_HC_DISCARD) or dirty. Freed frames are kept dirty, up to a bound, and
 * handed out first, cleared in place: under PVM the first touch of a page the
 * host must supply costs ~22 us, clearing one we hold ~0.1 us. Past the bound
 * they go back to the host, so a VM's host memory follows what it uses.
 *
 * The bitmap has a bit per frame of RAM: set when the frame is not clean and
 * free (in use, kept dirty, waiting to be given back, or not a frame). */
#include "ukfork/guest.h"
#include "ukfork/mm.h"

void *memset(void *dst, int c, size_t n);

static uint64_t *bitmap;       /* in the direct map */
static uint32_t *dirty;        /* stack of dirty free frame numbers */
static uint64_t ndirty, dirty_cap;
static uint64_t fmin, fmax;    /* frame numbers handed out: [fmin, fmax) */
static uint64_t cursor;        /* bitmap word to scan from */
static uint64_t nfree;         /* free frames, clean or dirty */
static uint64_t pend_start, pend_len; /* a run being given back */

static void bit_set(uint64_t f) { bitmap[f / 64] |= UKF_U64(1) << (f % 64); }
static void bit_clear(uint64_t f) { bitmap[f / 64] &= ~(UKF_U64(1) << (f % 64)); }

/* Mark what is not a frame: below fmin, and from fmax to the word's end. */
static void mark_reserved(void)
{
	for (uint64_t f = 0; f < fmin; f++)
		bit_set(f);
	for (uint64_t f = fmax; f % 64; f++)
		bit_set(f);
}

void ukf_frames_init(void)
{
	uint64_t mem = ukf_boot->mem_size;
	uint64_t nframes = mem / 4096;
	uint64_t map_bytes = (nframes + 63) / 64 * 8;
	/* Kept dirty: at most 64 MiB or a quarter of RAM. */
	uint64_t keep = mem / 4 < (UKF_U64(64) << 20) ? mem / 4 : (UKF_U64(64) << 20);
	dirty_cap = keep / 4096;
	uint64_t meta = (map_bytes + dirty_cap * 4 + 4095) & ~UKF_U64(4095);
	uint64_t meta_at = mem - meta;
	bitmap = ukf_phys(meta_at);
	dirty = (uint32_t *)ukf_phys(meta_at + map_bytes);
	fmin = UKF_FRAMES_MIN / 4096;
	fmax = meta_at / 4096;
	ndirty = 0;
	nfree = fmax - fmin;
	cursor = fmin / 64;
	pend_len = 0;
	mark_reserved();
}

static int64_t hc_discard(uint64_t f, uint64_t n)
{
	struct ukf_hc_discard d = { .addr = f * 4096, .len = n * 4096 };
	return ukf_hcall(UKF_HC_DISCARD, &d);
}

void ukf_frames_flush(void)
{
	if (!pend_len)
		return;
	hc_discard(pend_start, pend_len);
	for (uint64_t f = pend_start; f < pend_start + pend_len; f++)
		bit_clear(f);
	if (pend_start / 64 < cursor)
		cursor = pend_start / 64;
	pend_len = 0;
}

uint64_t ukf_frame_alloc(void)
{
	if (ndirty) {
		uint64_t f = dirty[--ndirty];
		nfree--;
		memset(ukf_phys(f * 4096), 0, 4096);
		return f * 4096;
	}
	ukf_frames_flush();
	uint64_t words = (fmax + 63) / 64;
	for (uint64_t n = 0; n < words; n++) {
		uint64_t i = cursor + n;
		if (i >= words)
			i -= words;
		uint64_t w = bitmap[i];
		if (w == ~UKF_U64(0))
			continue;
		uint64_t f = i * 64 + (uint64_t)__builtin_ctzll(~w);
		bit_set(f);
		cursor = i;
		nfree--;
		return f * 4096;
	}
	return 0;
}

void ukf_frame_free(uint64_t pa)
{
	uint64_t f = pa / 4096;
	if (f < fmin || f >= fmax)
		return;
	nfree++;
	if (ndirty < dirty_cap) {
		dirty[ndirty++] = (uint32_t)f;
		return;
	}
	if (pend_len && f == pend_start + pend_len) {
		pend_len++;
		return;
	}
	ukf_frames_flush();
	pend_start = f;
	pend_len = 1;
}

uint64_t ukf_frames_avail(void) { return nfree; }
uint64_t ukf_frames_total(void) { return fmax - fmin; }

void ukf_frames_reset(void)
{
	hc_discard(fmin, fmax - fmin);
	memset(bitmap, 0, (fmax + 63) / 64 * 8);
	ndirty = 0;
	pend_len = 0;
	nfree = fmax - fmin;
	cursor = fmin / 64;
	mark_reserved();
}
