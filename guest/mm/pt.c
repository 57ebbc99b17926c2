/* Page tables of the program's space, written in ring 3 through the direct
 * map. Tables above a leaf allow everything; the leaf entry decides. */
#include "ukfork/guest.h"
#include "ukfork/mm.h"

#define TABLE_FLAGS (UKF_PTE_P | UKF_PTE_W | UKF_PTE_U)

static uint64_t *table(uint64_t e)
{
	return ukf_phys(e & UKF_PTE_ADDR);
}

static uint64_t idx(uint64_t va, int level)
{
	return (va >> (12 + 9 * level)) & 511;
}

uint64_t *ukf_pte(uint64_t va, int create)
{
	if (va < UKF_USER_MIN || va >= UKF_USER_TOP)
		return 0;
	uint64_t *t = ukf_phys(UKF_PML4_ADDR);
	for (int level = 3; level > 0; level--) {
		uint64_t *e = &t[idx(va, level)];
		if (!(*e & UKF_PTE_P)) {
			if (!create)
				return 0;
			uint64_t f = ukf_frame_alloc();
			if (!f)
				return 0;
			*e = f | TABLE_FLAGS; /* an upgrade: seen at once */
		} else if (*e & UKF_PTE_PS) {
			return 0; /* the runtime's own large pages */
		}
		t = table(*e);
	}
	return &t[idx(va, 0)];
}

/* Writing a PDE again, with its own value, makes PVM read its whole page
 * table afresh; a run of such writes may instead drop the shadow of the
 * directory (KVM's write-flood rule), which is as good. */
void ukf_pt_sync(uint64_t start, uint64_t end)
{
	const uint64_t two = UKF_U64(2) << 20;
	for (uint64_t va = start & ~(two - 1); va < end && va >= (start & ~(two - 1)); va += two) {
		uint64_t *t = ukf_phys(UKF_PML4_ADDR);
		int level = 3;
		for (; level > 1; level--) {
			uint64_t e = t[idx(va, level)];
			if (!(e & UKF_PTE_P) || (e & UKF_PTE_PS))
				break;
			t = table(e);
		}
		if (level != 1)
			continue;
		volatile uint64_t *pde = &t[idx(va, 1)];
		if (*pde & UKF_PTE_P)
			*pde = *pde;
	}
}

/* Clear the entries of t from first on; each is one trapped write, so only
 * those set are written. */
static void clear_from(uint64_t *t, int first)
{
	for (int i = first; i < 512; i++)
		if (t[i])
			((volatile uint64_t *)t)[i] = 0;
}

void ukf_pt_reset(void)
{
	uint64_t *pml4 = ukf_phys(UKF_PML4_ADDR);
	uint64_t *pdpt_low = ukf_phys(UKF_PDPT_ADDR);
	uint64_t *pd_low = ukf_phys(UKF_PD_LOW_ADDR);
	/* [4 MiB, 1 GiB): PD_low from entry 2 (0: PT0, 1: the ring area). */
	clear_from(pd_low, 2);
	/* [1 GiB, 512 GiB), then up to the direct map's slot. */
	clear_from(pdpt_low, 1);
	for (int i = 1; i < (int)idx(UKF_DMAP_BASE, 3); i++)
		if (pml4[i])
			((volatile uint64_t *)pml4)[i] = 0;
}

/* Call fn on every leaf entry in [start, end) that is not zero, skipping
 * absent tables whole (a 64 GiB reservation has none). */
void ukf_pt_each(uint64_t start, uint64_t end, void (*fn)(uint64_t *pte, uint64_t va, void *ctx), void *ctx)
{
	uint64_t va = start & ~UKF_U64(4095);
	while (va < end && va >= UKF_USER_MIN && va < UKF_USER_TOP) {
		uint64_t *t = ukf_phys(UKF_PML4_ADDR);
		int level = 3;
		for (; level > 0; level--) {
			uint64_t e = t[idx(va, level)];
			if (!(e & UKF_PTE_P) || (e & UKF_PTE_PS))
				break;
			t = table(e);
		}
		if (level > 0) { /* no table here: skip what the entry covers */
			uint64_t span = UKF_U64(1) << (12 + 9 * level);
			va = (va & ~(span - 1)) + span;
			continue;
		}
		uint64_t stop = (va | ((UKF_U64(2) << 20) - 1)) + 1;
		for (; va < end && va < stop; va += 4096) {
			uint64_t *e = &t[idx(va, 0)];
			if (*e)
				fn(e, va, ctx);
		}
	}
}

int ukf_pt_map_image(void)
{
	uint64_t size = ukf_boot->image_size;
	if (!size || size > UKF_IMAGE_MAX)
		return 0;
	const uint64_t gib = UKF_U64(1) << 30, two = UKF_U64(2) << 20;
	uint64_t *pdpt = ukf_phys(UKF_PDPT_DMAP_ADDR);
	for (uint64_t g = 0; g * gib < size; g++) {
		uint64_t pd = ukf_frame_alloc();
		if (!pd)
			return 0; /* the runtime then reads files instead */
		uint64_t *t = ukf_phys(pd);
		for (uint64_t i = 0; i < 512 && g * gib + i * two < size; i++)
			t[i] = (UKF_IMAGE_GPA + g * gib + i * two) | UKF_PTE_P | UKF_PTE_U | UKF_PTE_PS | UKF_PTE_NX;
		((volatile uint64_t *)pdpt)[idx(UKF_IMAGE_VA, 2) + g] = pd | UKF_PTE_P | UKF_PTE_U;
	}
	return 1;
}
