/*
 * The two byte rings of a PV console page.  The guest produces "out" and
 * consumes "in"; we do the opposite.  Indices are free-running 32-bit
 * values masked by each ring's size.  A guest that claims more bytes than
 * a ring holds, or moves our own consumer/producer indices to impossible
 * places, gets -EPROTO and is cut off by the caller (as xenconsoled treats
 * bad ring indices), never an out-of-bounds access.
 */
#include <errno.h>

#include "abi/console.h"
#include "abi/ring.h"
#include "cons.h"

int cons_ring_read_out(struct xencons_interface *intf, char *buf, size_t len)
{
	XENCONS_RING_IDX cons = ring_load(&intf->out_cons);
	XENCONS_RING_IDX prod = ring_load(&intf->out_prod);
	size_t n = 0;

	ring_rmb(); /* indices before the bytes they cover */
	if ((XENCONS_RING_IDX)(prod - cons) > sizeof(intf->out))
		return -EPROTO;
	while (cons != prod && n < len)
		buf[n++] = ((volatile char *)intf->out)[MASK_XENCONS_IDX(cons++, intf->out)];
	ring_mb(); /* bytes copied before the guest may reuse them */
	ring_store(&intf->out_cons, cons);
	return (int)n;
}

int cons_ring_write_in(struct xencons_interface *intf, const char *buf, size_t len)
{
	XENCONS_RING_IDX cons = ring_load(&intf->in_cons);
	XENCONS_RING_IDX prod = ring_load(&intf->in_prod);
	size_t n = 0;

	ring_mb();
	if ((XENCONS_RING_IDX)(prod - cons) > sizeof(intf->in))
		return -EPROTO;
	while (n < len && (XENCONS_RING_IDX)(prod - cons) < sizeof(intf->in))
		((volatile char *)intf->in)[MASK_XENCONS_IDX(prod++, intf->in)] = buf[n++];
	ring_wmb(); /* bytes before the index that publishes them */
	ring_store(&intf->in_prod, prod);
	return (int)n;
}
