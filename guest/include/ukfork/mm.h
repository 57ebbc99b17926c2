/* The runtime's memory manager (guest/mm): frames of guest RAM and the x86-64
 * page tables that map them into the program's address space. The runtime
 * runs in ring 3 and writes the tables itself through the direct map.
 *
 * Under PVM (docs/platform-facts.md, "Guest page tables under PVM") a new or
 * upgraded 4 KiB mapping is seen at once, but a downgrade (unmap, write
 * protect, remap) is not seen until the page-directory entry above it is
 * written again: every change that takes access away ends with
 * ukf_pt_sync over the range it changed. */
#ifndef UKFORK_MM_H
#define UKFORK_MM_H

#include <stdint.h>
#include "abi.h"

#define UKF_PTE_P     (UKF_U64(1) << 0)
#define UKF_PTE_W     (UKF_U64(1) << 1)
#define UKF_PTE_U     (UKF_U64(1) << 2)
#define UKF_PTE_A     (UKF_U64(1) << 5)
#define UKF_PTE_D     (UKF_U64(1) << 6)
#define UKF_PTE_PS    (UKF_U64(1) << 7)
#define UKF_PTE_FRAME (UKF_U64(1) << 9)  /* software: the entry holds a frame, present or not */
#define UKF_PTE_IMAGE (UKF_U64(1) << 10) /* software: ... of the image, shared and read-only */
#define UKF_PTE_SHM   (UKF_U64(1) << 11) /* software: ... of a shared object, in the window (UKF_SHM_GPA) */
#define UKF_PTE_NX    (UKF_U64(1) << 63)
#define UKF_PTE_ADDR  UKF_U64(0x000ffffffffff000)

/* The direct map: any byte of RAM by its guest-physical address. */
static inline void *ukf_phys(uint64_t pa)
{
	return (void *)(uintptr_t)(UKF_DMAP_BASE + pa);
}

/* ---- Frames --------------------------------------------------------------- */
/* Set up the allocator over [UKF_FRAMES_MIN, mem_size); its own bookkeeping
 * takes the top of RAM. Fresh RAM reads zero, so this writes nothing. */
void ukf_frames_init(void);
/* A zeroed frame's address, or 0 when RAM is exhausted. */
uint64_t ukf_frame_alloc(void);
/* Give a frame back. It may be kept (dirty) for reuse, or returned to the
 * host: ukf_frames_flush ends a batch of frees. */
void ukf_frame_free(uint64_t pa);
void ukf_frames_flush(void);
/* Frames free now, and frames in all. */
uint64_t ukf_frames_avail(void);
uint64_t ukf_frames_total(void);
/* Every frame back to the host at once (execve), bookkeeping reset. */
void ukf_frames_reset(void);

/* ---- Page tables ---------------------------------------------------------- */
/* The leaf entry for va (4 KiB pages only, in the program's space), creating
 * the tables above it if create; NULL if absent (or out of frames). */
uint64_t *ukf_pte(uint64_t va, int create);
/* Make downgrades of leaf entries in [start, end) take effect. */
void ukf_pt_sync(uint64_t start, uint64_t end);
/* Call fn on each leaf entry in [start, end) that is not zero. */
void ukf_pt_each(uint64_t start, uint64_t end,
		 void (*fn)(uint64_t *pte, uint64_t va, void *ctx), void *ctx);
/* Map the image (bootinfo.image_size bytes at UKF_IMAGE_GPA) read-only at
 * UKF_IMAGE_VA for the runtime; at boot and after ukf_frames_reset. 0 if
 * there is no image to map, or no RAM for its tables. */
int ukf_pt_map_image(void);
/* The runtime's view of the image page at guest-physical pa. */
static inline const void *ukf_image_page(uint64_t pa)
{
	return (const void *)(uintptr_t)(UKF_IMAGE_VA + (pa - UKF_IMAGE_GPA));
}
/* Drop every mapping of the program's space and the tables that held them
 * (execve); the frames are the caller's to reset. */
void ukf_pt_reset(void);

#endif /* UKFORK_MM_H */
