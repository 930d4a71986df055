/*
 * Ioreq servers: Xen's protocol between an HVM domain's vCPUs and its
 * device model (QEMU), keeld's half.  A server is made, given its port
 * and MMIO ranges and PCI devices, and enabled through the DM control op
 * (libxendevicemodel's calls); its shared ioreq page is one of keeld's
 * ioreq-server pages (HVM_IOREQ_SERVER_PFN, mapped by gfn), one struct
 * ioreq per vCPU, and each vCPU has an event channel of the domain left
 * unbound for dom0, which the device model binds.
 *
 * A port or MMIO access no keeld device answers, in a range a server
 * claims, becomes an ioreq: the vCPU fills its slot, sets READY, sends on
 * its port and waits until the device model has set IORESP_READY (a read
 * takes the value), then sets NONE and completes the instruction.  PCI
 * configuration data (0xcfc-0xcff with 0xcf8's enable bit) goes as
 * IOREQ_TYPE_PCI_CONFIG to the server that registered that device, as
 * Xen's ioreq_server_select; an access no server claims keeps what Xen
 * gives an unclaimed range (hvm_platform.c).
 *
 * A write into the legacy VGA window (0xa0000-0xbffff) a server claims
 * goes as Xen's stdvga sends it: on the server's buffered ring
 * (hvm_bufioreq.c), its buffered port notified, the vCPU not waiting; a
 * full ring sends it synchronously.  QEMU empties the ring before it
 * takes any synchronous request, so none overtakes the writes before it.
 *
 * The ports are masked in the 2-level bitmap: the device model's notify
 * then wakes the waiting vCPU (evtchn_set_pending's broadcast of
 * d->cond) instead of raising an upcall the guest never asked for.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "abi/xen.h"
#include "hvm_domain.h"
#include "../evtchn/evtchn.h"
#include "../../dom0/libkeelctl/keelctl_wire.h"

#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc

_Static_assert(sizeof(struct hvm_ioreq) == 32, "Xen's struct ioreq is 32 bytes");

int hvm_ioreq_init(struct domain *d)
{
	return -pthread_mutex_init(&d->hvm->ioreq_lock, NULL);
}

void hvm_ioreq_destroy(struct domain *d)
{
	for (unsigned i = 0; i < HVM_IOREQ_SERVERS; i++)
		if (d->hvm->servers[i].used && d->hvm->servers[i].bufioreq)
			hvlog("d%d: ioreq server %u at destroy: %llu buffered writes, %llu sent "
			      "synchronously with the ring full",
			      d->domid, i, (unsigned long long)d->hvm->servers[i].buf_sent,
			      (unsigned long long)d->hvm->servers[i].buf_full);
	pthread_mutex_destroy(&d->hvm->ioreq_lock);
}

static struct hvm_ioreq *hvm_ioreq_page(struct domain *d, unsigned id)
{
	return hvm_gpa_ptr(d, HVM_IOREQ_SERVER_PFN(2 * id) << 12, 4096);
}

static struct hvm_buffered_iopage *hvm_buf_page(struct domain *d, unsigned id)
{
	return hvm_gpa_ptr(d, HVM_IOREQ_SERVER_PFN(2 * id + 1) << 12, 4096);
}

static void hvm_port_mask(struct domain *d, uint32_t port)
{
	struct shared_info *sh = domain_shared_info(d);

	__atomic_fetch_or(&sh->evtchn_mask[port / 64], 1ULL << (port % 64), __ATOMIC_SEQ_CST);
}

static void hvm_port_clear(struct domain *d, uint32_t port)
{
	struct shared_info *sh = domain_shared_info(d);

	__atomic_fetch_and(&sh->evtchn_pending[port / 64], ~(1ULL << (port % 64)),
			   __ATOMIC_SEQ_CST);
}

static int hvm_port_alloc(struct domain *d, uint32_t *port)
{
	int p = evtchn_alloc_unbound_port(d, 0);

	if (p < 0)
		return p;
	hvm_port_mask(d, (uint32_t)p);
	*port = (uint32_t)p;
	return 0;
}

static int hvm_server_create(struct domain *d, uint64_t bufioreq, uint32_t *id)
{
	struct hvm_domain *h = d->hvm;
	struct hvm_ioreq_server *s = NULL;
	unsigned i;
	int r;

	/* HVM_IOREQSRV_BUFIOREQ_OFF, _LEGACY, _ATOMIC */
	if (bufioreq > 2)
		return -EINVAL;
	for (i = 0; i < HVM_IOREQ_SERVERS && !s; i++)
		if (!h->servers[i].used)
			s = &h->servers[i];
	if (!s)
		return -ENOSPC;
	i--;
	memset(s, 0, sizeof(*s));
	for (int v = 0; v < d->nr_vcpus; v++)
		if ((r = hvm_port_alloc(d, &s->vcpu_port[v])) < 0)
			return r;
	if (bufioreq && (r = hvm_port_alloc(d, &s->buf_port)) < 0)
		return r;
	memset(hvm_ioreq_page(d, i), 0, 4096);
	memset(hvm_buf_page(d, i), 0, 4096);
	for (int v = 0; v < d->nr_vcpus; v++)
		hvm_ioreq_page(d, i)[v].vp_eport = s->vcpu_port[v];
	s->bufioreq = (int)bufioreq;
	s->used = 1;
	*id = i;
	hvlog("d%d: ioreq server %u created (bufioreq %d)", d->domid, i, s->bufioreq);
	return 0;
}

static struct hvm_ioreq_server *hvm_server(struct domain *d, uint32_t id)
{
	if (id >= HVM_IOREQ_SERVERS || !d->hvm->servers[id].used)
		return NULL;
	return &d->hvm->servers[id];
}

static int hvm_range_map(struct hvm_ioreq_server *s, const uint64_t *a, int map)
{
	unsigned i;

	if (a[0] > HVM_IO_RANGE_PCI || a[1] > a[2])
		return -EINVAL;
	for (i = 0; i < s->nr_ranges; i++) {
		struct hvm_io_range *r = &s->ranges[i];

		if (r->type != a[0])
			continue;
		if (!map && r->start == a[1] && r->end == a[2]) {
			*r = s->ranges[--s->nr_ranges];
			return 0;
		}
		if (map && a[1] <= r->end && r->start <= a[2])
			return -EEXIST;
	}
	if (!map)
		return -ENOENT;
	if (s->nr_ranges == HVM_IOREQ_RANGES)
		return -ENOSPC;
	s->ranges[s->nr_ranges++] = (struct hvm_io_range){(uint8_t)a[0], a[1], a[2]};
	return 0;
}

int hvm_irq_line(struct domain *d, uint32_t irq, int level)
{
	struct kvm_irq_level l = {.irq = irq, .level = level};

	return ioctl(d->vm.vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

/* Xen's PCI INTx routing: a device's pin reaches the link
 * (device + pin) & 3, which the PIIX3 routes to an ISA IRQ; the line is
 * asserted while any pin on the link is. */
static int hvm_pci_intx(struct domain *d, uint64_t dev, uint64_t intx, uint64_t level)
{
	struct hvm_domain *h = d->hvm;
	unsigned bit = (unsigned)(dev * 4 + intx), link = (unsigned)((dev + intx) & 3);
	int was, now;

	if (dev > 31 || intx > 3 || level > 1)
		return -EINVAL;
	was = h->link_asserted[link] != 0;
	if (level)
		h->intx_level[bit / 64] |= 1ULL << (bit % 64);
	else
		h->intx_level[bit / 64] &= ~(1ULL << (bit % 64));
	h->link_asserted[link] = 0;
	for (unsigned b = 0; b < 128; b++)
		if (((h->intx_level[b / 64] >> (b % 64)) & 1) && ((b / 4 + b % 4) & 3) == link)
			h->link_asserted[link]++;
	now = h->link_asserted[link] != 0;
	if (was != now && h->link_route[link])
		return hvm_irq_line(d, h->link_route[link], now);
	return 0;
}

static int hvm_dm_param(struct domain *d, struct keelctl_dm_req *q, int set)
{
	if (q->arg[0] >= HVM_NR_PARAMS)
		return -EINVAL;
	if (!set) {
		q->arg[0] = d->hvm->params[q->arg[0]];
		return 0;
	}
	if (q->arg[0] == HVM_PARAM_ACPI_IOPORTS_LOCATION)
		return hvm_pm_set_location(d, q->arg[1]) < 0 ? -EINVAL : 0;
	d->hvm->params[q->arg[0]] = q->arg[1];
	return 0;
}

static int hvm_dm_server_op(struct domain *d, struct keelctl_dm_req *q)
{
	struct hvm_ioreq_server *s = hvm_server(d, q->id);

	if (!s)
		return -ENOENT;
	switch (q->op) {
	case KEELCTL_DM_GET_INFO:
		q->arg[0] = HVM_IOREQ_SERVER_PFN(2 * q->id);
		q->arg[1] = HVM_IOREQ_SERVER_PFN(2 * q->id + 1);
		q->arg[2] = s->buf_port;
		return 0;
	case KEELCTL_DM_MAP_RANGE:
	case KEELCTL_DM_UNMAP_RANGE:
		return hvm_range_map(s, q->arg, q->op == KEELCTL_DM_MAP_RANGE);
	case KEELCTL_DM_SET_STATE:
		s->enabled = q->arg[0] != 0;
		hvlog("d%d: ioreq server %u %s", d->domid, q->id,
		      s->enabled ? "enabled" : "disabled");
		return 0;
	case KEELCTL_DM_DESTROY_SERVER:
		s->used = 0;
		s->enabled = 0;
		hvlog("d%d: ioreq server %u destroyed (%llu buffered writes, %llu sent "
		      "synchronously with the ring full)",
		      d->domid, q->id, (unsigned long long)s->buf_sent,
		      (unsigned long long)s->buf_full);
		return 0;
	}
	return -EINVAL;
}

/* XENMEM_populate_physmap from dom0 (a device model's option ROMs and
 * video RAM): extent by extent, stopping at the first that cannot be
 * done, as Xen's memory_op does; the caller learns how many were. */
static int hvm_dm_populate(struct domain *d, struct keelctl_dm_req *q)
{
	uint64_t gfn = q->arg[0], order = q->arg[1], nr = q->arg[2], done;
	int r = 0;

	if (order > HVM_MAX_ORDER || nr > (1ULL << 20) || gfn >= (1ULL << 40))
		return -EINVAL;
	struct timespec t0, t1;
	bool whole;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* a range none of whose frames is populated yet (QEMU's video RAM,
	 * its ROMs): one KVM slot operation; else extent by extent */
	whole = !(gfn & ((1ULL << order) - 1)) && hvm_hole_populate_range(d, gfn, nr << order);
	for (done = whole ? nr : 0; done < nr; done++) {
		r = hvm_populate_extent(d, gfn + (done << order), (unsigned)order);
		if (r < 0)
			break;
	}
	if (r == -ENOMEM)
		hvlog("d%d: populate_physmap at gfn %#llx: over-allocation (%llu of %llu "
		      "frames held)",
		      d->domid, (unsigned long long)(gfn + (done << order)),
		      (unsigned long long)__atomic_load_n(&d->cur_pages, __ATOMIC_RELAXED),
		      (unsigned long long)d->max_pages);
	else if (r < 0)
		hvlog("d%d: populate_physmap at gfn %#llx: %s", d->domid,
		      (unsigned long long)(gfn + (done << order)), strerror(-r));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (nr << order >= 256) /* a video RAM's or a large ROM's: what it cost */
		hvlog("d%d: populate_physmap of %llu frames at gfn %#llx: %s in %lld us", d->domid,
		      (unsigned long long)(nr << order), (unsigned long long)gfn,
		      whole ? "one range" : "frame by frame",
		      (long long)((t1.tv_sec - t0.tv_sec) * 1000000 +
				  (t1.tv_nsec - t0.tv_nsec) / 1000));
	q->arg[0] = done;
	q->arg[1] = (uint64_t)(int64_t)r;
	return 0;
}

int hvm_dm_op(struct domain *d, struct keelctl_dm_req *q, void *data, uint32_t *data_len)
{
	struct hvm_domain *h = d->hvm;
	int r = -EINVAL;

	*data_len = 0;
	if (!h)
		return -EINVAL;
	if (q->op == KEELCTL_DM_POPULATE)
		return hvm_dm_populate(d, q);
	if (q->op == KEELCTL_DM_RELOCATE)
		return hvm_relocate_memory(d, q->arg[0], q->arg[1], q->arg[2]);
	if (q->op == KEELCTL_DM_TRACK_VRAM)
		return hvm_track_dirty_vram(d, q->arg[0], q->arg[1], data, data_len);
	pthread_mutex_lock(&h->ioreq_lock);
	switch (q->op) {
	case KEELCTL_DM_CREATE_SERVER:
		r = hvm_server_create(d, q->arg[0], &q->id);
		break;
	case KEELCTL_DM_GET_INFO:
	case KEELCTL_DM_MAP_RANGE:
	case KEELCTL_DM_UNMAP_RANGE:
	case KEELCTL_DM_SET_STATE:
	case KEELCTL_DM_DESTROY_SERVER:
		r = hvm_dm_server_op(d, q);
		break;
	case KEELCTL_DM_ISA_IRQ:
		r = q->arg[0] > 15 || q->arg[1] > 1
			    ? -EINVAL
			    : hvm_irq_line(d, (uint32_t)q->arg[0], (int)q->arg[1]);
		break;
	case KEELCTL_DM_PCI_INTX:
		r = hvm_pci_intx(d, q->arg[0], q->arg[1], q->arg[2]);
		break;
	case KEELCTL_DM_LINK_ROUTE:
		if (q->arg[0] > 3 || q->arg[1] > 15)
			break;
		h->link_route[q->arg[0]] = (uint8_t)q->arg[1];
		r = 0;
		break;
	case KEELCTL_DM_GET_PARAM:
	case KEELCTL_DM_SET_PARAM:
		r = hvm_dm_param(d, q, q->op == KEELCTL_DM_SET_PARAM);
		break;
	case KEELCTL_DM_NR_VCPUS:
		q->arg[0] = (uint64_t)d->nr_vcpus;
		r = 0;
		break;
	}
	pthread_mutex_unlock(&h->ioreq_lock);
	return r;
}

/* The enabled server claiming [addr, addr+size) of type; -1 if none. */
static int hvm_server_select(struct domain *d, unsigned type, uint64_t addr, unsigned size)
{
	for (unsigned i = 0; i < HVM_IOREQ_SERVERS; i++) {
		const struct hvm_ioreq_server *s = &d->hvm->servers[i];

		if (!s->used || !s->enabled)
			continue;
		for (unsigned k = 0; k < s->nr_ranges; k++)
			if (s->ranges[k].type == type && addr >= s->ranges[k].start &&
			    addr + size - 1 <= s->ranges[k].end)
				return (int)i;
	}
	return -1;
}

/* Send on the vCPU's port to its device model; 0, or -1 if the device
 * model has not bound it (or let go of it). */
static int hvm_ioreq_notify(struct domain *d, uint32_t port)
{
	uint64_t one = 1;
	int slot = evtchn_dom0_slot(d, port), r = -1;

	if (slot < 0)
		return -1;
	pthread_mutex_lock(&d->lock);
	if (slot < d->n_dom0_binds && d->dom0_binds[slot].port == port)
		r = write(d->dom0_binds[slot].g2d_fd, &one, sizeof(one)) == sizeof(one) ||
				    errno == EAGAIN
			    ? 0
			    : -1;
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* Hand the ioreq to server sid and wait for its answer; 0, or -1 when the
 * domain is going away or the device model went (the domain crashes: the
 * vCPU cannot complete the instruction). */
static int hvm_ioreq_send(struct vcpu *v, int sid, struct hvm_ioreq *rq)
{
	struct domain *d = v->dom;
	struct hvm_ioreq *slot;
	uint32_t port;
	int bound = 1;

	pthread_mutex_lock(&d->hvm->ioreq_lock);
	port = d->hvm->servers[sid].vcpu_port[v->id];
	pthread_mutex_unlock(&d->hvm->ioreq_lock);
	slot = &hvm_ioreq_page(d, (unsigned)sid)[v->id];
	rq->vp_eport = port;
	slot->addr = rq->addr;
	slot->data = rq->data;
	slot->count = rq->count;
	slot->size = rq->size;
	slot->vp_eport = port;
	slot->flags = (uint8_t)(rq->flags & ~0xf);
	slot->type = rq->type;
	hvm_port_clear(d, port);
	__atomic_store_n(&slot->flags, (uint8_t)((rq->flags & ~0xf) | HVM_IOREQ_READY),
			 __ATOMIC_RELEASE);
	if (hvm_ioreq_notify(d, port) < 0)
		bound = 0;
	pthread_mutex_lock(&d->lock);
	for (uint64_t t0 = hvm_now_ns(), next = t0 + 1000000000ull;;) {
		uint8_t st = __atomic_load_n(&slot->flags, __ATOMIC_ACQUIRE) & 0xf;
		struct timespec ts;
		uint64_t t;

		if (st == HVM_IORESP_READY)
			break;
		/* Not answered after a second: say so, once a second (the
		 * request's state tells whether the server took it up). */
		t = hvm_now_ns();
		if (t >= next) {
			hvlog("d%d: vCPU %d: ioreq (type %u addr %#llx) to server %d in state %u "
			      "after %llu ms",
			      d->domid, v->id, rq->type, (unsigned long long)rq->addr, sid, st,
			      (unsigned long long)((t - t0) / 1000000));
			next = t + 1000000000ull;
		}
		/* a paused domain's vCPU keeps waiting: the answer may come;
		 * so does a suspended one's (xl save): its access completes
		 * before the state is saved, the device model still runs */
		if (d->dying ||
		    (d->state != DOM_RUNNING && d->state != DOM_PAUSED &&
		     !(d->state == DOM_SHUTDOWN && d->shutdown_reason == SHUTDOWN_suspend)) ||
		    !bound) {
			pthread_mutex_unlock(&d->lock);
			if (!bound)
				domain_crash(d,
					     "ioreq to server %d: its device model has not "
					     "bound vCPU %d's port %u",
					     sid, v->id, port);
			return -1;
		}
		hvm_port_clear(d, port);
		/* d->cond waits on CLOCK_MONOTONIC (domain.c); a deadline on
		 * another clock never comes, and the answer's wake-up, if it
		 * came between the look above and the wait, was lost with it */
		t += 20 * 1000 * 1000;
		ts.tv_sec = (time_t)(t / 1000000000ull);
		ts.tv_nsec = (long)(t % 1000000000ull);
		pthread_cond_timedwait(&d->cond, &d->lock, &ts);
		if (d->evtchns && !d->evtchns[port].dom0_slot)
			bound = 0; /* the device model let go of the port */
	}
	pthread_mutex_unlock(&d->lock);
	rq->data = slot->data;
	__atomic_store_n(&slot->flags, (uint8_t)(slot->flags & ~0xf), __ATOMIC_RELEASE);
	return 0;
}

/* An access of size bytes (data: what is written, or where a read's
 * value goes) as ioreq rq to server sid: 1 done, -1 the vCPU must stop. */
static int hvm_ioreq_rw(struct vcpu *v, int sid, struct hvm_ioreq *rq, int is_write, uint8_t *data,
			unsigned size)
{
	rq->flags = is_write ? 0 : HVM_IOREQ_DIR_READ;
	if (is_write)
		memcpy(&rq->data, data, size);
	if (hvm_ioreq_send(v, sid, rq) < 0)
		return -1;
	if (!is_write)
		memcpy(data, &rq->data, size);
	return 1;
}

/* Port I/O: 1 handled (data filled for a read), 0 not claimed, -1 the
 * vCPU must stop. */
int hvm_ioreq_pio(struct vcpu *v, uint16_t port, int is_write, uint8_t *data, unsigned size)
{
	struct domain *d = v->dom;
	struct hvm_ioreq rq = {.count = 1, .size = size};
	uint32_t cf8 = d->hvm->pci_cf8;
	int sid;

	if ((port & ~3u) == PCI_CONF_DATA && (cf8 & 0x80000000u)) {
		uint64_t sbdf = (cf8 >> 8) & 0xffff;

		pthread_mutex_lock(&d->hvm->ioreq_lock);
		sid = hvm_server_select(d, HVM_IO_RANGE_PCI, sbdf, 1);
		pthread_mutex_unlock(&d->hvm->ioreq_lock);
		if (sid < 0)
			return 0;
		rq.type = HVM_IOREQ_TYPE_PCI_CONFIG;
		rq.addr = (sbdf << 32) | (cf8 & 0xfc) | ((cf8 & 0x0f000000) >> 16) | (port & 3);
	} else {
		pthread_mutex_lock(&d->hvm->ioreq_lock);
		sid = hvm_server_select(d, HVM_IO_RANGE_PORT, port, size);
		pthread_mutex_unlock(&d->hvm->ioreq_lock);
		if (sid < 0)
			return 0;
		rq.type = HVM_IOREQ_TYPE_PIO;
		rq.addr = port;
	}
	return hvm_ioreq_rw(v, sid, &rq, is_write, data, size);
}

/* A count that is a power of two: worth a line in keeld's log. */
static int hvm_count_loggable(uint64_t n)
{
	return n && !(n & (n - 1));
}

/*
 * A write into the legacy VGA window, as Xen's stdvga sends it: on server
 * sid's buffered ring, its port notified, the vCPU not waiting.  1 done;
 * 0: send it synchronously (no ring, the ring full, a size the ring does
 * not carry) -- QEMU empties the ring before it takes a synchronous
 * request, so that one does not overtake the writes before it.  The
 * caller holds ioreq_lock (the ring's producer lock, as Xen's
 * bufioreq_lock); the notify is sent after it is let go.
 */
static int hvm_ioreq_buffered(struct domain *d, int sid, uint64_t gpa, const uint8_t *data,
			      unsigned size, uint32_t *notify)
{
	struct hvm_ioreq_server *s = &d->hvm->servers[sid];
	uint64_t v = 0;

	if (!s->bufioreq)
		return 0;
	memcpy(&v, data, size);
	if (!hvm_bufioreq_put(hvm_buf_page(d, (unsigned)sid), s->bufioreq == HVM_BUFIOREQ_ATOMIC,
			      HVM_IOREQ_TYPE_COPY, gpa, size, v)) {
		if (hvm_count_loggable(++s->buf_full))
			hvlog("d%d: ioreq server %d: buffered ring full, %llu writes sent "
			      "synchronously",
			      d->domid, sid, (unsigned long long)s->buf_full);
		return 0;
	}
	if (hvm_count_loggable(++s->buf_sent))
		hvlog("d%d: ioreq server %d: %llu buffered writes", d->domid, sid,
		      (unsigned long long)s->buf_sent);
	*notify = s->buf_port;
	return 1;
}

int hvm_ioreq_mmio(struct vcpu *v, uint64_t gpa, int is_write, uint8_t *data, unsigned size)
{
	struct domain *d = v->dom;
	struct hvm_ioreq rq = {.count = 1, .size = size, .addr = gpa, .type = HVM_IOREQ_TYPE_COPY};
	uint32_t notify = 0;
	int sid, done = 0;

	if (size > 8)
		return 0;
	pthread_mutex_lock(&d->hvm->ioreq_lock);
	sid = hvm_server_select(d, HVM_IO_RANGE_MEMORY, gpa, size);
	/* only while the domain runs: a suspend (xl save) waits for the ring
	 * to empty, and a write made after it began goes the synchronous way */
	if (sid >= 0 && is_write && gpa >= HVM_VGA_MEM_BASE &&
	    gpa + size <= HVM_VGA_MEM_BASE + HVM_VGA_MEM_SIZE &&
	    __atomic_load_n(&d->state, __ATOMIC_ACQUIRE) == DOM_RUNNING)
		done = hvm_ioreq_buffered(d, sid, gpa, data, size, &notify);
	pthread_mutex_unlock(&d->hvm->ioreq_lock);
	if (sid < 0)
		return 0;
	if (done) {
		hvm_ioreq_notify(d, notify); /* unbound yet: QEMU finds them at its next request */
		return 1;
	}
	return hvm_ioreq_rw(v, sid, &rq, is_write, data, size);
}

/*
 * Before a suspended domain's device model saves its state (xl save:
 * QMP xen-save-devices-state right after the suspend), wait until it has
 * taken every buffered write, or they would be lost with the ring (a
 * restored domain's QEMU makes a new server).  QEMU takes them at its
 * next event or within its 100 ms buffered-I/O timer; the wait is
 * bounded (a device model that stopped, or wrote nonsense into the
 * pointers, loses its own domain's writes, nothing else).  0, or
 * -ETIMEDOUT with what was left logged.
 */
int hvm_ioreq_drain(struct domain *d, unsigned timeout_ms)
{
	uint64_t t0 = hvm_now_ns();

	for (;;) {
		int left = 0, bad = 0;

		pthread_mutex_lock(&d->hvm->ioreq_lock);
		for (unsigned i = 0; i < HVM_IOREQ_SERVERS; i++) {
			int n;

			if (!d->hvm->servers[i].used || !d->hvm->servers[i].bufioreq)
				continue;
			n = hvm_bufioreq_pending(hvm_buf_page(d, i));
			if (n < 0)
				bad++;
			else
				left += n;
		}
		pthread_mutex_unlock(&d->hvm->ioreq_lock);
		if (!left)
			return 0;
		if (bad || hvm_now_ns() - t0 >= timeout_ms * 1000000ull) {
			hvlog("d%d: suspend: %d buffered ioreq slots not taken by the device model "
			      "after %llu ms%s",
			      d->domid, left, (unsigned long long)((hvm_now_ns() - t0) / 1000000),
			      bad ? " (its ring pointers are nonsense)" : "");
			return -ETIMEDOUT;
		}
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
}
