/*
 * The buffered ioreq ring: Xen's buffered_iopage (public/hvm/ioreq.h),
 * keeld's producer half.  A write the vCPU need not wait for (Xen's
 * stdvga: the legacy VGA window) goes into a slot, the write pointer
 * moves on, and the device model (QEMU's handle_buffered_iopage) takes
 * slots from the read pointer, which it alone moves.  An 8-byte write
 * takes two slots, the high half of its data in the second.
 *
 * The page is shared with the device model, so both pointers come from
 * outside: each is read once, the slot index is always taken modulo the
 * ring's size, and a ring that looks fuller than it can be (a read
 * pointer past the write pointer, or too far behind it) counts as full:
 * the write goes the synchronous way and only that domain is slowed.
 */
#include <stddef.h>

#include "hvm_domain.h"

_Static_assert(sizeof(struct hvm_buf_ioreq) == 8, "Xen's buf_ioreq_t is 8 bytes");
_Static_assert(sizeof(struct hvm_buffered_iopage) == 4096, "Xen's buffered_iopage is one page");
_Static_assert(offsetof(struct hvm_buffered_iopage, slot) == 8, "slots follow the two pointers");

/* The slot's first word: type (bits 0-7), dir (9), log2 of the size
 * (10-11), the address (12-31), as Xen's bit fields lay it out on x86. */
static uint32_t hvm_bufioreq_word(uint8_t type, unsigned size_log2, uint32_t addr)
{
	return type | (uint32_t)size_log2 << 10 | addr << 12;
}

int hvm_bufioreq_put(struct hvm_buffered_iopage *pg, int atomic, uint8_t type, uint64_t addr,
		     unsigned size, uint64_t data)
{
	unsigned log2, n;
	uint32_t rd, wr, word;

	switch (size) {
	case 1:
		log2 = 0;
		break;
	case 2:
		log2 = 1;
		break;
	case 4:
		log2 = 2;
		break;
	case 8:
		log2 = 3;
		break;
	default:
		return 0;
	}
	if (addr > 0xfffff) /* the slot's address has 20 bits */
		return 0;
	n = size == 8 ? 2 : 1;
	rd = __atomic_load_n(&pg->ptrs.read_pointer, __ATOMIC_ACQUIRE);
	wr = __atomic_load_n(&pg->ptrs.write_pointer, __ATOMIC_RELAXED);
	if (wr - rd > HVM_BUFIOREQ_SLOTS - n) /* full, or nonsense from outside */
		return 0;
	word = hvm_bufioreq_word(type, log2, (uint32_t)addr);
	pg->slot[wr % HVM_BUFIOREQ_SLOTS] = (struct hvm_buf_ioreq){word, (uint32_t)data};
	if (n == 2)
		pg->slot[(wr + 1) % HVM_BUFIOREQ_SLOTS] =
			(struct hvm_buf_ioreq){word, (uint32_t)(data >> 32)};
	/* the slots before the pointer that shows them */
	__atomic_store_n(&pg->ptrs.write_pointer, wr + n, __ATOMIC_RELEASE);
	/* HVM_IOREQSRV_BUFIOREQ_ATOMIC: both pointers brought back below the
	 * ring's size together, so neither wraps at 2^32 (a wrap would not
	 * be a multiple of the ring's size); the device model moves the read
	 * pointer meanwhile, so compare-and-swap, a bounded number of tries */
	for (unsigned tries = 0; atomic && tries < HVM_BUFIOREQ_SLOTS; tries++) {
		uint64_t old = __atomic_load_n(&pg->ptrs.full, __ATOMIC_ACQUIRE), new;
		uint32_t r = (uint32_t)old, w = (uint32_t)(old >> 32), k;

		if (r < HVM_BUFIOREQ_SLOTS)
			break;
		k = r / HVM_BUFIOREQ_SLOTS * HVM_BUFIOREQ_SLOTS;
		new = (uint64_t)(w - k) << 32 | (r - k);
		if (__atomic_compare_exchange_n(&pg->ptrs.full, &old, new, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			break;
	}
	return 1;
}

int hvm_bufioreq_pending(const struct hvm_buffered_iopage *pg)
{
	uint32_t rd = __atomic_load_n(&pg->ptrs.read_pointer, __ATOMIC_ACQUIRE);
	uint32_t wr = __atomic_load_n(&pg->ptrs.write_pointer, __ATOMIC_ACQUIRE);

	return wr - rd <= HVM_BUFIOREQ_SLOTS ? (int)(wr - rd) : -1;
}
