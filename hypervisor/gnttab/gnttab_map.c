/*
 * GNTTABOP_map_grant_ref / unmap_grant_ref / unmap_and_replace between
 * guest domains, and the pin counts they share with dom0 processes' maps
 * (MAP_GRANT).
 *
 * A guest's physical address space is its own memfd, so a frame another
 * domain granted cannot simply be named by its MFN.  Each mapping domain
 * gets a "foreign window": a KVM memory slot at GNTTAB_WINDOW_GPA, one page
 * per maptrack handle, whose host backing keeld remaps page by page.  A map
 * puts the granter's memfd page under the handle's window page
 * (mmap MAP_FIXED|MAP_SHARED, read-only for a read-only map; KVM follows
 * the change through its MMU notifier) and returns the window frame as the
 * device/bus address; with GNTMAP_host_map keeld also writes the PTE at
 * host_addr (a virtual address in the current page tables, or with
 * GNTMAP_contains_pte the machine address of an L1 entry).  An unmap
 * clears the PTE and puts a private anonymous page back under the window
 * page, so a stale TLB entry can only reach that scratch page, never the
 * granter's memory; no other PTE may name a window frame (pv_mm.c).
 *
 * Xen's checks: the entry must permit access to the mapper (else
 * GNTST_general_error), a writable map needs a writable grant, the busy
 * bits GTF_reading/GTF_writing are set by compare-exchange while any map
 * holds the entry (pin counts per entry) so end_foreign_access fails, and
 * a writable map holds a writable type reference on the granter's frame
 * so it can never become a page table while mapped.  Handles are bounded
 * (GNTTAB_MAPTRACK_MAX; GNTST_no_space past it, Xen 4.17's status).
 *
 * A granter that dies with its pages mapped: its memfd stays referenced by
 * the mapper's window mapping, so the mapper keeps a valid page that is
 * never freed or reused; the unmap then just restores the window page.
 * Each domain's map state carries a unique id so a new domain reusing the
 * domid is never mistaken for the old granter.  That state lives in a
 * table beside struct domain, not in it: save/restore copies struct domain
 * wholesale, and a pointer restored from an image must never be followed.
 *
 * Locking: evtchn_peers_lock (peer lookups, pin counts, busy bits; copies
 * hold it too), then the mapper's mm_lock, then the granter's mm_lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "abi/grant_table.h"
#include "abi/xen.h"
#include "../evtchn/evtchn.h"
#include "gnttab.h"
#include "gnttab_dom0.h"
#include "../core/kind.h"

struct gnttab_maptrack {
	uint32_t flags; /* GNTMAP_* still held; 0: free */
	uint32_t ref;
	uint16_t domid;
	uint64_t uid; /* the granter's map-state uid (not its domid) */
	uint64_t frame;
	uint64_t host_addr;
};

/* Pin counts of one of our grant entries, across every mapper. */
struct gnttab_pin {
	uint32_t rd, wr;     /* guest maps */
	uint32_t d0rd, d0wr; /* dom0-process maps (MAP_GRANT) */
	uint64_t frame;	     /* the frame the pins hold (recorded at the first pin) */
	uint8_t counted;     /* 1: counted; 2: also in the frame's page_info.grant_pins */
};

struct gnttab_maps {
	uint64_t uid; /* unique for keeld's lifetime */
	struct gnttab_maptrack mt[GNTTAB_MAPTRACK_MAX];
	uint32_t used;
	uint32_t top;	 /* one past the highest handle ever given: none live above */
	uint8_t *window; /* GNTTAB_MAPTRACK_MAX pages of keeld's address space */
	int slot_added;
	struct gnttab_pin *pins; /* GNTTAB_MAX_FRAMES * 512, for our own grants */
};

#define GNTTAB_NR_ENTRIES (GNTTAB_MAX_FRAMES * 4096 / sizeof(struct grant_entry_v1))

/* A domain's map state (d->gmaps) is made on first use under the domain
 * table's lock and dropped with the domain; the domain's own state is
 * also read without it (PTE checks in pv_mm.c), which is safe because only
 * that domain's destruction drops it. */
static uint64_t gnttab_next_uid = 1;

static struct gnttab_maps *gnttab_maps_find(struct domain *d)
{
	return __atomic_load_n(&d->gmaps, __ATOMIC_ACQUIRE);
}

/* Under evtchn_peers_lock: d's map state, made on first use. */
static struct gnttab_maps *gnttab_maps_get(struct domain *d)
{
	struct gnttab_maps *m = gnttab_maps_find(d);

	if (m)
		return m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->window = MAP_FAILED;
	m->uid = gnttab_next_uid++;
	__atomic_store_n(&d->gmaps, m, __ATOMIC_RELEASE);
	return m;
}

static struct gnttab_pin *gnttab_pins(struct domain *d)
{
	struct gnttab_maps *m = gnttab_maps_get(d);

	if (m && !m->pins)
		m->pins = calloc(GNTTAB_NR_ENTRIES, sizeof(*m->pins));
	return m ? m->pins : NULL;
}

/* The window: reserved once (anonymous, no memory committed), made a KVM
 * memory slot of the mapper's VM on its first map. */
static int gnttab_window_get(struct domain *d, struct gnttab_maps *m)
{
	size_t size = (size_t)GNTTAB_MAPTRACK_MAX << DOMAIN_PAGE_SHIFT;

	if (m->window == MAP_FAILED) {
		m->window = mmap(NULL, size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m->window == MAP_FAILED)
			return -errno;
	}
	/* A RAM-only domain (DOMAIN_NO_KVM: unit tests, fuzzing) has no VM. */
	if (!m->slot_added && d->vm.vm_fd > 0) {
		int r = kvm_vm_add_memory(&d->vm, GNTTAB_WINDOW_GPA, size, m->window);

		if (r < 0)
			return r;
		m->slot_added = 1;
	}
	return 0;
}

static int gnttab_window_restore(struct gnttab_maps *m, uint32_t h)
{
	void *p = mmap(m->window + ((size_t)h << DOMAIN_PAGE_SHIFT), DOMAIN_PAGE_SIZE,
		       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	return p == MAP_FAILED ? -errno : 0;
}

int gnttab_window_frame_ok(struct domain *d, uint64_t mfn, int writable)
{
	struct gnttab_maps *m = gnttab_maps_find(d);
	uint64_t h = mfn - (GNTTAB_WINDOW_GPA >> DOMAIN_PAGE_SHIFT);

	if (mfn < (GNTTAB_WINDOW_GPA >> DOMAIN_PAGE_SHIFT) || h >= GNTTAB_MAPTRACK_MAX)
		return -XEN_EPERM;
	if (!m || !__atomic_load_n(&m->mt[h].flags, __ATOMIC_ACQUIRE))
		return -XEN_EPERM;
	if (writable && (m->mt[h].flags & GNTMAP_readonly))
		return -XEN_EPERM;
	return 0;
}

static uint64_t gnttab_window_gpa(uint32_t h)
{
	return GNTTAB_WINDOW_GPA + ((uint64_t)h << DOMAIN_PAGE_SHIFT);
}

/* Under evtchn_peers_lock: the granter a maptrack entry names, if it is
 * still the same domain. */
static struct domain *gnttab_granter(struct domain *d, const struct gnttab_maptrack *t)
{
	struct domain *rd = t->domid == d->domid ? d : evtchn_peer(t->domid);
	struct gnttab_maps *rm = rd ? gnttab_maps_find(rd) : NULL;

	return rm && rm->uid == t->uid ? rd : NULL;
}

/*
 * Under evtchn_peers_lock: the RAM a grant of d's naming @frame stands for,
 * for a grant copy: one of d's own frames, or a page of d's foreign window,
 * i.e. a live map d holds of a third domain's grant.  Linux's netback hands
 * the pages it mapped from a frontend to other devices of its domain, and a
 * driver domain's netfront (its uplink) grants them on to its own backend
 * by the frame they have in its address space: the window frame.  Such a
 * grant passes on no more than d holds (writing only through a writable
 * map, and only while the map lives), as a transitive grant would.  The
 * owner and its frame, or NULL (the caller's GNTST_bad_page).
 */
struct domain *gnttab_frame_owner(struct domain *d, uint64_t frame, int write, uint64_t *oframe)
{
	uint64_t h = frame - (GNTTAB_WINDOW_GPA >> DOMAIN_PAGE_SHIFT);
	struct gnttab_maps *m;
	struct domain *rd;

	if (domain_owns_frame(d, frame)) {
		*oframe = frame;
		return d;
	}
	if (gnttab_window_frame_ok(d, frame, write) < 0)
		return NULL;
	m = gnttab_maps_find(d);
	rd = gnttab_granter(d, &m->mt[h]);
	if (!rd || !domain_owns_frame(rd, m->mt[h].frame))
		return NULL; /* its granter is gone */
	*oframe = m->mt[h].frame;
	return rd;
}

static int gnttab_pin_any(const struct gnttab_pin *p)
{
	return p->rd || p->wr || p->d0rd || p->d0wr;
}

/* Count one more pin of an entry that maps @frame (counter @c in @p). */
static void gnttab_pin_count(struct domain *rd, struct gnttab_pin *p, uint64_t frame, uint32_t *c)
{
	struct gnttab_maps *m = gnttab_maps_find(rd);

	if (m && !p->counted) {
		/* pins happen under evtchn_peers_lock, as do changes of ownership
		 * (memory_op), so the frame stays ours until the last pin goes */
		p->counted = domain_owns_frame(rd, frame) ? 2 : 1;
		p->frame = frame;
		if (p->counted == 2)
			rd->grant_pins[frame]++;
	}
	(*c)++;
}

/*
 * Is @mfn of @d held by a live map (a guest's or a dom0 process's)?  Such a
 * frame must not be handed back by decrease_reservation: keeld would give it
 * out again, zeroed, while the mapper still sees it (Xen keeps the page
 * alive through the mapper's reference instead).  Each frame counts the
 * entries pinned on it (the frame recorded when the entry was first
 * pinned, so rewriting a busy entry changes nothing).  Under
 * evtchn_peers_lock (which comes before the domain's mm_lock).
 */
int gnttab_frame_pinned(struct domain *d, uint64_t mfn)
{
	return domain_owns_frame(d, mfn) && d->grant_pins[mfn];
}

/*
 * Log-dirty: every frame of d another party holds a writable map of (a
 * guest through its foreign window, a dom0 process through MAP_GRANT --
 * persistent grants stay mapped for the device's life) may have been
 * written since the last look, and no dirty log of d's VM saw it.
 */
void gnttab_mark_writable_maps(struct domain *d)
{
	struct gnttab_maps *m;

	evtchn_peers_lock();
	m = gnttab_maps_find(d);
	if (m && m->pins)
		for (size_t i = 0; i < GNTTAB_NR_ENTRIES; i++)
			if (m->pins[i].wr || m->pins[i].d0wr)
				domain_dirty_mark(d, m->pins[i].frame);
	evtchn_peers_unlock();
}

/* Pin entry ref of rd for d: its busy bits stay set while any map holds
 * it (gnttab_acquire sets them as Xen does, for either table version). */
static int16_t gnttab_pin_get(struct domain *d, struct domain *rd, uint32_t ref, int writable,
			      uint64_t *frame)
{
	struct gnttab_pin *pins = gnttab_pins(rd);
	struct gnttab_grant g;
	int16_t st;

	if (!pins)
		return GNTST_general_error;
	st = gnttab_acquire(rd, ref, (uint16_t)d->domid, writable, 1, GNTST_general_error, &g);
	if (st != GNTST_okay)
		return st;
	gnttab_pin_count(rd, &pins[ref], g.frame, writable ? &pins[ref].wr : &pins[ref].rd);
	*frame = g.frame;
	return GNTST_okay;
}

/* After a pin count dropped: clear the busy bits no map needs any more. */
static void gnttab_pin_settle(struct domain *rd, struct gnttab_pin *p, uint32_t ref)
{
	struct gnttab_maps *m = gnttab_maps_find(rd);
	uint16_t clear = 0;

	if (m && p->counted && !gnttab_pin_any(p)) {
		if (p->counted == 2 && rd->grant_pins[p->frame])
			rd->grant_pins[p->frame]--;
		p->counted = 0;
	}

	if (!p->wr && !p->d0wr)
		clear |= GTF_writing;
	if (!p->wr && !p->d0wr && !p->rd && !p->d0rd)
		clear |= GTF_reading;
	gnttab_release(rd, ref, clear);
}

static void gnttab_pin_put(struct domain *rd, uint32_t ref, int writable)
{
	struct gnttab_pin *pins = gnttab_pins(rd);

	if (!pins || ref >= GNTTAB_NR_ENTRIES)
		return;
	if (writable && pins[ref].wr)
		pins[ref].wr--;
	else if (!writable && pins[ref].rd)
		pins[ref].rd--;
	gnttab_pin_settle(rd, &pins[ref], ref);
}

/*
 * dom0 processes (MAP_GRANT / UNMAP_GRANT through the control socket): the
 * entry must grant dom0 access (and writing, for a writable map); its busy
 * bits stay set while any dom0 or guest map holds it.  An unmap names only
 * the reference, so it drops a writable pin if there is one, else a
 * read-only one; with no dom0 pin it changes nothing (a guest's map keeps
 * its bits).
 */
int gnttab_dom0_map(struct domain *d, uint32_t gref, int writable, uint64_t *frame)
{
	struct gnttab_pin *pins;
	struct gnttab_grant g;
	int16_t st;
	int r = 0;

	evtchn_peers_lock();
	pins = gnttab_pins(d);
	st = pins ? gnttab_acquire(d, gref, 0, writable, 1, GNTST_permission_denied, &g)
		  : GNTST_general_error;
	if (st == GNTST_bad_gntref || (st == GNTST_okay && !domain_owns_frame(d, g.frame))) {
		if (st == GNTST_okay)
			gnttab_pin_settle(d, &pins[gref], gref);
		r = -EINVAL;
	} else if (st != GNTST_okay) {
		r = -EPERM;
	} else {
		gnttab_pin_count(d, &pins[gref], g.frame,
				 writable ? &pins[gref].d0wr : &pins[gref].d0rd);
		*frame = g.frame;
	}
	evtchn_peers_unlock();
	return r;
}

int gnttab_dom0_unmap(struct domain *d, uint32_t gref)
{
	int r = gnttab_dom0_unmap_kind(d, gref, GNTTAB_D0_ANY);

	return r < 0 ? r : 0;
}

/* The unmap a process's tracked map needs (gnttab_dom0.c): the kind it
 * took, so releasing a dead process's read-only map never drops a live
 * one's writable pin. */
int gnttab_dom0_unmap_kind(struct domain *d, uint32_t gref, int kind)
{
	struct gnttab_pin *pins;
	uint32_t *cnt = NULL;
	int r = GNTTAB_D0_NONE;

	evtchn_peers_lock();
	pins = gnttab_pins(d);
	if (!gnttab_busy(d, gref) || !pins || gref >= GNTTAB_NR_ENTRIES) {
		r = -EINVAL;
	} else if (kind == GNTTAB_D0_WR || (kind == GNTTAB_D0_ANY && pins[gref].d0wr)) {
		cnt = &pins[gref].d0wr;
		r = GNTTAB_D0_WR;
	} else {
		cnt = &pins[gref].d0rd;
		r = GNTTAB_D0_RD;
	}
	if (cnt && *cnt) {
		(*cnt)--;
		gnttab_pin_settle(d, &pins[gref], gref);
	} else if (cnt) {
		r = GNTTAB_D0_NONE;
	}
	evtchn_peers_unlock();
	return r;
}

/* A writable map holds a writable type reference on the granter's frame.
 * `held` is the domain whose mm_lock the caller holds (a domain may map
 * its own grants). */
static int gnttab_frame_type_get(struct domain *rd, struct domain *held, uint64_t frame)
{
	int r;

	if (rd != held)
		pthread_mutex_lock(&rd->mm_lock);
	r = rd->kind->frame_get_writable(rd, frame) < 0 ? -1 : 0;
	if (rd != held)
		pthread_mutex_unlock(&rd->mm_lock);
	return r;
}

static void gnttab_frame_type_put(struct domain *rd, struct domain *held, uint64_t frame)
{
	if (!domain_owns_frame(rd, frame))
		return;
	if (rd != held)
		pthread_mutex_lock(&rd->mm_lock);
	rd->kind->frame_put_writable(rd, frame);
	if (rd != held)
		pthread_mutex_unlock(&rd->mm_lock);
}

/* Drop everything a maptrack entry holds in the granter (if still there). */
static void gnttab_release_granter(struct domain *d, struct domain *held, struct gnttab_maptrack *t)
{
	struct domain *rd = gnttab_granter(d, t);
	int writable = !(t->flags & GNTMAP_readonly);

	if (!rd)
		return; /* gone: its memfd page lives on under our window only */
	if (writable)
		gnttab_frame_type_put(rd, held, t->frame);
	gnttab_pin_put(rd, t->ref, writable);
}

static int16_t gnttab_map_one(struct vcpu *v, struct gnttab_map_grant_ref *op)
{
	struct domain *d = v->dom, *rd;
	struct gnttab_maps *m = gnttab_maps_get(d), *rm;
	int writable = !(op->flags & GNTMAP_readonly), typed = 0;
	uint64_t frame = 0;
	uint32_t h;
	int16_t st;
	void *p;

	if (!(op->flags & (GNTMAP_host_map | GNTMAP_device_map)))
		return GNTST_bad_gntref; /* Xen: "bad flags" */
	if (!m)
		return GNTST_general_error;
	rd = op->dom == DOMID_SELF || op->dom == d->domid ? d : evtchn_peer(op->dom);
	if (!rd)
		return GNTST_bad_domain;
	for (h = 0; h < GNTTAB_MAPTRACK_MAX && m->mt[h].flags; h++)
		;
	if (h == GNTTAB_MAPTRACK_MAX)
		return GNTST_no_space;
	if (h >= m->top)
		m->top = h + 1;
	rm = gnttab_maps_get(rd); /* its uid and pin counts */
	if (!rm)
		return GNTST_general_error;
	st = gnttab_pin_get(d, rd, op->ref, writable, &frame);
	if (st != GNTST_okay)
		return st;
	st = GNTST_general_error;
	if (!domain_owns_frame(rd, frame))
		goto unpin;
	if (writable) {
		if (gnttab_frame_type_get(rd, d, frame) < 0)
			goto unpin;
		typed = 1;
	}
	if (gnttab_window_get(d, m) < 0)
		goto unpin;
	p = mmap(m->window + ((size_t)h << DOMAIN_PAGE_SHIFT), DOMAIN_PAGE_SIZE,
		 PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED | MAP_FIXED, rd->memfd,
		 (off_t)(frame << DOMAIN_PAGE_SHIFT));
	if (p == MAP_FAILED)
		goto unpin;
	m->mt[h] = (struct gnttab_maptrack){
		.ref = op->ref,
		.domid = (uint16_t)rd->domid,
		.uid = rm->uid,
		.frame = frame,
		.host_addr = op->host_addr,
	};
	__atomic_store_n(&m->mt[h].flags,
			 op->flags & (GNTMAP_host_map | GNTMAP_device_map | GNTMAP_readonly |
				      GNTMAP_contains_pte),
			 __ATOMIC_RELEASE);
	if (op->flags & GNTMAP_host_map) {
		/* An entry's machine address must be aligned: rounded down it
		 * would name the entry before, which the guest never offered
		 * (Xen refuses it before touching anything). */
		if ((op->flags & GNTMAP_contains_pte) && (op->host_addr & 7)) {
			__atomic_store_n(&m->mt[h].flags, 0, __ATOMIC_RELEASE);
			gnttab_window_restore(m, h);
			goto unpin;
		}
		if (d->kind->grant_map(v, op->host_addr, op->flags & GNTMAP_contains_pte,
				       gnttab_window_gpa(h), writable) < 0) {
			__atomic_store_n(&m->mt[h].flags, 0, __ATOMIC_RELEASE);
			gnttab_window_restore(m, h);
			goto unpin;
		}
	}
	m->used++;
	op->handle = h;
	op->dev_bus_addr = gnttab_window_gpa(h);
	return GNTST_okay;
unpin:
	if (typed)
		gnttab_frame_type_put(rd, d, frame);
	gnttab_pin_put(rd, op->ref, writable);
	return st;
}

/*
 * Unmap what handle h holds, as Xen's unmap_common: with host_addr the host
 * mapping (its entry must map the handle's window frame now), with
 * dev_bus_addr the device mapping (the address the map returned; checked
 * only when the handle holds a device mapping, GNTST_bad_dev_addr if it is
 * not that one); what the handle does not hold, or no address names, is
 * left alone and is no error.  new_addr (GNTTABOP_unmap_and_replace): the
 * host mapping's entry takes over the entry that maps new_addr.  The
 * handle goes when neither mapping is left.
 */
static int16_t gnttab_unmap_common(struct vcpu *v, uint64_t host_addr, uint64_t dev_bus_addr,
				   uint64_t new_addr, uint32_t h)
{
	struct domain *d = v->dom;
	struct gnttab_maps *m = gnttab_maps_find(d);
	struct gnttab_maptrack *t;

	if (!m || h >= GNTTAB_MAPTRACK_MAX || !m->mt[h].flags)
		return GNTST_bad_handle;
	t = &m->mt[h];
	if (dev_bus_addr && (t->flags & GNTMAP_device_map) && dev_bus_addr != gnttab_window_gpa(h))
		return GNTST_bad_dev_addr;
	if (host_addr && (t->flags & GNTMAP_host_map)) {
		if (d->kind->grant_unmap(v, host_addr, t->flags & GNTMAP_contains_pte,
					 gnttab_window_gpa(h), new_addr) < 0)
			return GNTST_general_error;
		t->flags &= ~GNTMAP_host_map;
	}
	if (dev_bus_addr)
		t->flags &= ~GNTMAP_device_map;
	if (t->flags & (GNTMAP_host_map | GNTMAP_device_map))
		return GNTST_okay; /* part of it still held, as in Xen */
	gnttab_release_granter(d, d, t);
	if (gnttab_window_restore(m, h) < 0)
		domain_log(d, "gnttab: window page %u not restored", h);
	__atomic_store_n(&t->flags, 0, __ATOMIC_RELEASE);
	m->used--;
	return GNTST_okay;
}

/* GNTTABOP_map_grant_ref, unmap_grant_ref and unmap_and_replace, batched. */
long gnttab_map_batch(struct vcpu *v, uint64_t cmd, uint64_t uop, uint64_t count)
{
	struct domain *d = v->dom;
	long r = 0;
	int logged = 0;

	for (uint64_t i = 0; i < count && r == 0; i++) {
		union {
			struct gnttab_map_grant_ref map;
			struct gnttab_unmap_grant_ref unmap;
			struct gnttab_unmap_and_replace replace;
		} op;
		size_t size = cmd == GNTTABOP_map_grant_ref	? sizeof(op.map)
			      : cmd == GNTTABOP_unmap_grant_ref ? sizeof(op.unmap)
								: sizeof(op.replace);
		uint64_t va = uop + i * size;
		uint32_t h;
		int16_t st;

		if (guest_copy_from(v, &op, va, size) < 0)
			return -XEN_EFAULT;
		evtchn_peers_lock();
		pthread_mutex_lock(&d->mm_lock);
		if (cmd == GNTTABOP_map_grant_ref) {
			st = op.map.status = gnttab_map_one(v, &op.map);
			h = op.map.ref;
		} else if (cmd == GNTTABOP_unmap_grant_ref) {
			st = op.unmap.status = gnttab_unmap_common(
				v, op.unmap.host_addr, op.unmap.dev_bus_addr, 0, op.unmap.handle);
			h = op.unmap.handle;
		} else {
			st = op.replace.status = gnttab_unmap_common(
				v, op.replace.host_addr, 0, op.replace.new_addr, op.replace.handle);
			h = op.replace.handle;
		}
		/* The page-table writes land before the MMU lock goes (with
		 * more than one vCPU online the shim runs them now); other
		 * domains' grant ops need not wait for that. */
		evtchn_peers_unlock();
		if (d->kind->grant_commit(v) < 0)
			r = -XEN_EIO;
		pthread_mutex_unlock(&d->mm_lock);
		if (st != GNTST_okay && !logged++)
			domain_log(d,
				   "gnttab: %s of ref/handle %u: %s (first refusal of the batch)",
				   cmd == GNTTABOP_map_grant_ref     ? "map"
				   : cmd == GNTTABOP_unmap_grant_ref ? "unmap"
								     : "unmap_and_replace",
				   h, gnttab_status_name(st));
		if (guest_copy_to(v, va, &op, size) < 0)
			return -XEN_EFAULT;
	}
	return r;
}

/* For invariant checkers (tests/fuzz/pv_invariants.c): each live map d
 * holds, with its granter (NULL once gone), the granter's frame, d's
 * window frame and the GNTMAP_* flags still held. */
void gnttab_maps_visit(struct domain *d, gnttab_map_visit_fn fn, void *arg)
{
	struct gnttab_maps *m;

	evtchn_peers_lock();
	m = gnttab_maps_find(d);
	for (uint32_t h = 0; m && h < m->top; h++)
		if (m->mt[h].flags)
			fn(arg, gnttab_granter(d, &m->mt[h]), m->mt[h].frame,
			   gnttab_window_gpa(h) >> DOMAIN_PAGE_SHIFT, m->mt[h].flags);
	evtchn_peers_unlock();
}

/*
 * Xen's 'g' debug key, per domain, under evtchn_peers_lock (the domain
 * table's, which the key's loop holds): how many of d's grant entries are
 * in use by someone's map (guests' or dom0 processes'), and how many
 * maptrack entries d holds on other domains' grants.  An entry stays in
 * use while any map holds it, so a mapper that died without its maps
 * being released would show here as entries that never go back to 0.
 */
void gnttab_dump(struct domain *d)
{
	struct gnttab_maps *m = gnttab_maps_find(d);
	unsigned active = 0, by_dom0 = 0, maps = 0;

	for (uint32_t i = 0; m && m->pins && i < GNTTAB_NR_ENTRIES; i++) {
		active += gnttab_pin_any(&m->pins[i]) != 0;
		by_dom0 += m->pins[i].d0rd || m->pins[i].d0wr;
	}
	for (uint32_t h = 0; m && h < m->top; h++)
		maps += m->mt[h].flags != 0;
	hvlog("grant-table for remote d%u (v%d): %u active entries (%u held by dom0 "
	      "processes), %u maptrack entries in use",
	      d->domid, gnttab_v2(d) ? 2 : 1, active, by_dom0, maps);
}

/* A dying domain: what it maps of others is released (their pins and type
 * references), its window goes; what others map of it stays valid in their
 * windows (the memfd pages outlive the domain). */
void gnttab_domain_release(struct domain *d)
{
	struct gnttab_maps *m = NULL;

	evtchn_peers_lock();
	m = d->gmaps;
	__atomic_store_n(&d->gmaps, NULL, __ATOMIC_RELEASE);
	for (uint32_t h = 0; m && h < m->top; h++)
		if (m->mt[h].flags && m->mt[h].domid != d->domid)
			gnttab_release_granter(d, NULL, &m->mt[h]);
	evtchn_peers_unlock();
	if (!m)
		return;
	if (m->window != MAP_FAILED)
		munmap(m->window, (size_t)GNTTAB_MAPTRACK_MAX << DOMAIN_PAGE_SHIFT);
	free(m->pins);
	free(m);
}

/* Per frame of RAM: grant entries a live map holds on it (for
 * decrease_reservation's check), made with the domain. */
static int gnttab_domain_init(struct domain *d)
{
	d->grant_pins = calloc(d->nr_pages, sizeof(*d->grant_pins));
	return d->grant_pins ? 0 : -ENOMEM;
}

static void gnttab_domain_destroy(struct domain *d)
{
	gnttab_domain_release(d);
	gnttab_dom0_domain_gone(d->domid);
	free(d->grant_pins);
	d->grant_pins = NULL;
}

static const struct domain_subsys gnttab_subsys = {
	.name = "gnttab",
	.order = 20,
	.init = gnttab_domain_init,
	.destroy = gnttab_domain_destroy,
	.save = gnttab_save,
	.check = gnttab_restore_check,
	.restore = gnttab_restore,
};
DOMAIN_SUBSYS(gnttab_subsys)
