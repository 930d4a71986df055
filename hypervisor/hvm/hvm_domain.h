/*
 * The HVM kind's part of a domain (d->hvm): how its RAM sits around the
 * MMIO hole, its HVM parameters, the hypercall page it asked for, and the
 * line it is writing to Xen's debug port 0xe9.  keeld's region of an HVM
 * domain (shared_info, grant frames, the ioreq-server and special pages)
 * ends at Xen's special region end, 0xff000000, so the special pages are
 * at Xen's frame numbers.
 */
#ifndef KEEL_HV_HVM_DOMAIN_H
#define KEEL_HV_HVM_DOMAIN_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "abi/hvm.h"
#include "../core/domain.h"
#include "../core/kind.h"

/* The region: shared_info at page 0, grant frames from page 1 (36),
 * then the 8 ioreq-server pages and the 8 special pages last. */
#define HVM_REGION_PAGES      64
#define HVM_REGION_SIZE	      (HVM_REGION_PAGES * 4096ULL)
#define HVM_REGION_GPA	      ((HVM_END_SPECIAL_REGION << 12) - HVM_REGION_SIZE)
#define HVM_REGION_OFF_SHINFO 0
#define HVM_REGION_OFF_GNTTAB 4096
#define HVM_LOW_MEM_START     0x100000ULL /* libxl's low RAM entry starts at 1 MiB */
/* Port the hypercall page's stubs write to (`out %eax, $0xe1`) */
#define HVM_PORT_HYPERCALL  0xe1
#define HVM_PORT_DEBUG	    0xe9	/* Xen's debug console (hvmloader's printf) */
#define HVM_CONSOLE_LOG_MAX (64 * 1024) /* of one domain's 0xe9 text in keeld's log */

/* RAM populated after the build (XENMEM_populate_physmap: hvmloader's
 * ACPI tables and allocations at 0xFC000000.., a device model's option
 * ROMs and video RAM past the end of RAM): frames from the end of the RAM
 * below the MMIO hole (at most the hole's start) up to keeld's region
 * and, for a domain with RAM above 4 GiB, HVM_TOP_PAGES frames past its
 * end (where QEMU puts them then), backed by the domain's memfd past
 * keeld's region (so dom0 maps them as it maps RAM), each contiguous run
 * of populated frames one KVM slot. */
#define HVM_HOLE_GPA  HVM_BELOW_4G_MMIO_START
#define HVM_TOP_PAGES (1ULL << 18) /* 1 GiB */
#define HVM_HOLE_RUNS 32	   /* KVM slots for them */
#define HVM_MAX_ORDER 9		   /* Xen's largest extent for a domU (2 MiB) */

struct hvm_hole_run {
	uint64_t gfn, pages;
	int slot;
};

/* Populated frames a device model moved elsewhere (XEN_DMOP_relocate_memory:
 * QEMU's video RAM to the VGA BAR, hvm_vram.c): the guest sees them at gfn,
 * their memfd pages are still those of `from` (dom0's mappings of them stay
 * right), where nothing is mapped meanwhile; in KVM slot `slot`, its writes
 * logged while `dirty` (track_dirty_vram of [dirty_first, +dirty_nr)).
 * They stay populated and counted against maxmem as before the move; a
 * save would record them at gfn. */
struct hvm_reloc {
	uint64_t gfn, from, pages;
	int slot, dirty;
	uint64_t dirty_first, dirty_nr;
};
#define HVM_RELOCS    4
#define HVM_GFN_LIMIT (1ULL << 40)	   /* frame numbers a device model may name */
#define HVM_VRAM_MAX  ((1ULL << 30) >> 12) /* Xen's limit: 1 GiB of frames */

/* Xen's struct ioreq (public/hvm/ioreq.h): flags holds state (bits 0-3),
 * data_is_ptr (4), dir (5: 1 read) and df (6). */
struct hvm_ioreq {
	uint64_t addr, data;
	uint32_t count, size, vp_eport;
	uint16_t pad;
	uint8_t flags, type;
};
#define HVM_IOREQ_NONE		  0
#define HVM_IOREQ_READY		  1
#define HVM_IORESP_READY	  3
#define HVM_IOREQ_DIR_READ	  0x20
#define HVM_IOREQ_TYPE_PIO	  0
#define HVM_IOREQ_TYPE_COPY	  1
#define HVM_IOREQ_TYPE_PCI_CONFIG 2
/* Xen's buf_ioreq_t: the first word packs type, dir, size and a 20-bit
 * address (hvm_bufioreq.c); data is 32 bits (an 8-byte write takes two
 * slots).  buffered_iopage: the two pointers (one 64-bit word, for
 * HVM_IOREQSRV_BUFIOREQ_ATOMIC's compare-and-swap), then 511 slots. */
struct hvm_buf_ioreq {
	uint32_t word, data;
};
#define HVM_BUFIOREQ_SLOTS 511
struct hvm_buffered_iopage {
	union {
		struct {
			uint32_t read_pointer, write_pointer;
		};
		uint64_t full;
	} ptrs;
	struct hvm_buf_ioreq slot[HVM_BUFIOREQ_SLOTS];
};
#define HVM_BUFIOREQ_ATOMIC 2 /* HVM_IOREQSRV_BUFIOREQ_ATOMIC */
/* Xen's stdvga window: writes there go buffered */
#define HVM_VGA_MEM_BASE 0xa0000
#define HVM_VGA_MEM_SIZE 0x20000
/* Put a write on the ring: 1 done, 0 not (ring full, or a size or
 * address the slot cannot hold): the caller sends it synchronously. */
int hvm_bufioreq_put(struct hvm_buffered_iopage *pg, int atomic, uint8_t type, uint64_t addr,
		     unsigned size, uint64_t data);
/* Slots the device model has not taken yet; -1 if its pointers are nonsense. */
int hvm_bufioreq_pending(const struct hvm_buffered_iopage *pg);

/* XEN_DMOP_IO_RANGE_*: what a server's range covers */
#define HVM_IO_RANGE_PORT   0
#define HVM_IO_RANGE_MEMORY 1
#define HVM_IO_RANGE_PCI    2
/* Two ioreq-server pages each (ioreq, bufioreq): Xen's 8 pages, 4 servers */
#define HVM_IOREQ_SERVERS (HVM_NR_IOREQ_SERVER_PAGES / 2)
#define HVM_IOREQ_RANGES  256

struct hvm_io_range {
	uint8_t type;
	uint64_t start, end; /* inclusive; a PCI range: sbdf */
};

/* Xen's RTC registers 0x00-0x0d (hvm_rtc.c); the CMOS past them is the
 * device model's. */
#define HVM_RTC_REGS 14
/*
 * A platform device's timer thread (hvm_platform.c): started at the first
 * kick, it sleeps until the moment next() names on its clock (0: until the
 * next kick), then calls fire() with that moment; both run under *lock,
 * the device's, which a kick's caller holds too.
 */
struct hvm_ticker {
	struct domain *d;
	pthread_mutex_t *lock;
	pthread_cond_t cond;
	clockid_t clock;
	int64_t (*next)(struct domain *d);
	void (*fire)(struct domain *d, int64_t at);
	pthread_t thread;
	int thread_ok, stop;
};
void hvm_ticker_init(struct hvm_ticker *t, struct domain *d, pthread_mutex_t *lock, clockid_t clock,
		     int64_t (*next)(struct domain *), void (*fire)(struct domain *, int64_t));
/* Have it look at next() again; start it first if `start`. */
void hvm_ticker_kick(struct hvm_ticker *t, int start);
/* End the thread (if it ever started); the device's lock is not held. */
void hvm_ticker_destroy(struct hvm_ticker *t);

struct hvm_rtc {
	pthread_mutex_t lock;
	struct hvm_ticker irq8;	    /* B or A changed, or stop */
	uint8_t regs[HVM_RTC_REGS]; /* A, B and the alarms (the time is computed) */
	uint8_t index;		    /* the last index written to 0x70 */
	uint8_t c_raised;	    /* register C flags the IRQ8 thread raised */
	int64_t offset_s;	    /* guest time - host time, seconds */
	int64_t frozen_s;	    /* the guest time while SET is on */
	int64_t last_c_ns;	    /* when register C was last read */
};

struct hvm_ioreq_server {
	int used, enabled, bufioreq;
	uint32_t vcpu_port[DOMAIN_MAX_VCPUS]; /* unbound for dom0: the device model binds */
	uint32_t buf_port;
	uint64_t buf_sent; /* writes put on the buffered ring */
	uint64_t buf_full; /* buffered writes sent synchronously: the ring was full */
	unsigned nr_ranges;
	struct hvm_io_range ranges[HVM_IOREQ_RANGES];
};

struct hvm_domain {
	uint64_t low_pages;  /* RAM frames below the hole, from 0 */
	uint64_t high_pages; /* the rest, from 4 GiB */
	uint64_t params[HVM_NR_PARAMS];
	uint64_t hypercall_page; /* gpa; 0: none yet */
	uint64_t start_info;	 /* gpa of the hvm_start_info handed over in %ebx */
	uint32_t entry;
	int shinfo_slot; /* KVM slot of the shared_info page; -1: not mapped */
	uint64_t shinfo_gpa;
	uint64_t hole_gfn, hole_pages; /* the frames populate_physmap may fill, */
	uint64_t top_gfn, top_pages;   /* then these (past RAM above 4 GiB, if any) */
	uint8_t *hole; /* hole_pages + top_pages frames of the memfd; populated ones in use */
	uint8_t *hole_populated; /* bitmap of them */
	struct hvm_hole_run runs[HVM_HOLE_RUNS];
	int nr_runs;
	struct hvm_reloc relocs[HVM_RELOCS]; /* under d->mm_lock */
	int nr_relocs;
	int free_slots[HVM_HOLE_RUNS + HVM_RELOCS]; /* KVM slot ids deleted, for reuse */
	int nr_free_slots;
	uint32_t pci_cf8;	    /* the PCI configuration address, latched as Xen does */
	uint64_t pm_base_ns;	    /* CLOCK_MONOTONIC at the PM timer's zero */
	uint16_t pm1a_sts, pm1a_en; /* atomics: dom0's buttons set status bits */
	int sci_level;		    /* the SCI as last set (under ioreq_lock) */
	uint64_t pm_tmr_half;	    /* the timer's count >> 31 when last looked at (ioreq_lock) */
	pthread_mutex_t pm_lock;    /* the TMR_STS thread's */
	struct hvm_ticker pm_tmr;   /* wakes at PM1a_EN written, or stop */
	uint32_t nmi_pending;	    /* bit per vCPU: dom0's NMI trigger, for KVM_NMI */
	uint64_t wire_checked;	    /* hvm_irq.c: when the PIC's wire was last looked at */
	uint32_t wire_lvt0;	    /* the LVT0 keeld set for it */
	int wire_forced;
	pthread_mutex_t ioreq_lock; /* the servers and interrupt links (hvm_ioreq.c) */
	struct hvm_ioreq_server servers[HVM_IOREQ_SERVERS];
	uint8_t link_route[4];	   /* PCI link -> ISA IRQ (0: none) */
	unsigned link_asserted[4]; /* INTx pins asserted on each link */
	uint64_t intx_level[2];	   /* device * 4 + pin */
	char dbg_line[256];
	unsigned dbg_len;
	uint64_t dbg_logged; /* bytes of 0xe9 text sent to keeld's log */
	struct hvm_rtc rtc;
};

/* Guest-physical [gpa, gpa+n) as keeld's pointer: RAM or keeld's region;
 * NULL if any of it is neither. */
void *hvm_gpa_ptr(struct domain *d, uint64_t gpa, uint64_t n);
int hvm_copy_from_gpa(struct domain *d, void *dst, uint64_t gpa, size_t n);
int hvm_copy_to_gpa(struct domain *d, uint64_t gpa, const void *src, size_t n);

/* The E820 map the guest is given (start info, XENMEM_memory_map). */
unsigned hvm_memory_map(struct domain *d, struct hvm_memmap_entry *e, unsigned max);
/* Make guest frame gfn RAM past the end of RAM (populate_physmap): 1 (a
 * new frame), 0 (one populated before, now a fresh one), or -EINVAL (not
 * such a frame) / -ENOSPC (out of KVM slots). */
int hvm_hole_populate(struct domain *d, uint64_t gfn);
/* One extent of populate_physmap: 2^order frames from gfn (aligned),
 * counted against max_pages as Xen counts them; 0, or -EINVAL (a bad
 * frame or order), -ENOMEM (past max_pages), -ENOSPC (out of KVM slots).
 * Frames before a failing one stay populated, as in Xen. */
int hvm_populate_extent(struct domain *d, uint64_t gfn, unsigned order);
/* A contiguous range of the hole in one KVM slot operation, when it can be
 * done whole (none of it populated, maxmem room); 1 done, 0 not. */
int hvm_hole_populate_range(struct domain *d, uint64_t gfn, uint64_t count);
/* Frame gfn's index among the hole's frames (-1: not one of them), and
 * keeld's pointer to it (hvm_kind.c). */
int64_t hvm_hole_index(const struct hvm_domain *h, uint64_t gfn);
uint8_t *hvm_hole_ptr(const struct hvm_domain *h, uint64_t gfn);
/* A KVM slot for [gpa, gpa+size) at hva: a deleted one's id reused, else a
 * new one; its id in *slot.  Deleting one keeps its id for reuse. */
int hvm_slot_add(struct domain *d, uint64_t gpa, uint64_t size, void *hva, int *slot);
int hvm_slot_delete(struct domain *d, int slot, uint64_t gpa, void *hva);
/* Map populated frames [gfn, gfn+pages) for the guest: the run below or
 * above grown, else a slot of their own (d->mm_lock held). */
int hvm_hole_map(struct domain *d, uint64_t gfn, uint64_t pages);
/* hvm_vram.c: [gfn, gfn+count) against the relocated ranges: 1 if all of
 * it is in one range's new place (*index: the hole index of its memfd
 * page), -1 if it touches one otherwise (or a range's old place, where
 * nothing is mapped now), 0 if none.  Under d->mm_lock. */
int hvm_reloc_lookup(const struct hvm_domain *h, uint64_t gfn, uint64_t count, int64_t *index);
/* XEN_DMOP_relocate_memory: pages frames from gfn `from` to gfn `to`. */
int hvm_relocate_memory(struct domain *d, uint64_t pages, uint64_t from, uint64_t to);
/* XEN_DMOP_track_dirty_vram: Xen's bitmap of [first, first+nr) into out
 * ((nr + 7) / 8 bytes, *out_len); nr 0 stops tracking. */
int hvm_track_dirty_vram(struct domain *d, uint64_t first, uint64_t nr, void *out,
			 uint32_t *out_len);
/* Put keeld's shared_info page at gpa (a KVM slot of its own). */
int hvm_map_shared_info(struct domain *d, uint64_t gpa);
int hvm_build_domain(struct domain *d, const struct domain_image *img);
int hvm_vcpu_start(struct vcpu *v);
int hvm_vcpu_set_cpuid(struct vcpu *v);
void *hvm_vcpu_thread(void *vcpu);
void hvm_vcpu_kick(struct vcpu *v);
/* The guest wrote Xen's hypercall MSR: fill the page it named. */
int hvm_hypercall_page_write(struct vcpu *v, uint64_t val);
/* One hypercall: the registers as the stub left them; the result in rax. */
int hvm_hypercall(struct vcpu *v, struct kvm_regs *regs);
void hvm_debug_port_write(struct domain *d, const uint8_t *buf, size_t n);
/* Ports keeld itself answers for an HVM domain, as Xen does in the
 * hypervisor (hvm_platform.c): 0 if port is one of them (*data filled for
 * a read), -1 if not. */
/* CLOCK_MONOTONIC in ns (hvm_platform.c) */
uint64_t hvm_now_ns(void);
void hvm_platform_init(struct domain *d);
/* The PM timer's state (hvm_platform.c): zero now, no TMR_STS thread yet;
 * hvm_pm_destroy ends the thread if TMR_EN ever started it. */
void hvm_pm_init(struct domain *d);
void hvm_pm_destroy(struct domain *d);
/* The RTC at 0x70/0x71 as Xen's (hvm_rtc.c): 1 if keeld answered the
 * access, 0 if it is the device model's (a CMOS byte past 0x0d). */
void hvm_rtc_init(struct domain *d);
void hvm_rtc_destroy(struct domain *d);
/* KVM_IRQ_LINE on the in-kernel PIC/IOAPIC: 0 or -errno. */
int hvm_irq_line(struct domain *d, uint32_t irq, int level);
int hvm_rtc_io(struct domain *d, uint16_t port, int is_write, uint8_t *data, unsigned size);
int hvm_platform_io(struct domain *d, uint16_t port, int is_write, uint8_t *data, unsigned size);
/* The PM1a status/enable and PM timer ports alone (0 answered, -1 not):
 * Xen's pmtimer.c handlers, which answer before any ioreq server (QEMU's
 * PIIX4 claims the same block, as under Xen, where it never sees them). */
int hvm_pm_io(struct domain *d, uint16_t port, int is_write, uint8_t *data, unsigned size);
/* Xen's IOAPIC virtual wire for the PIC, applied to KVM's LAPIC
 * (hvm_irq.c); called at vCPU exits, rate-limited. */
void hvm_irq_wire_check(struct vcpu *v);
/* Xen's XEN_DMOP_inject_msi (hvm_irq.c): a device model's MSI write to
 * the interrupt window, delivered by KVM_SIGNAL_MSI; 0 or -errno. */
int hvm_inject_msi(struct domain *d, uint64_t addr, uint64_t data);
/* Xen's hvm_acpi_power_button / _sleep_button (dom0's trigger): the
 * button's PM1a status bit, and the SCI if the guest enabled it. */
int hvm_acpi_button(struct domain *d, int sleep);
/* Xen's XEN_DOMCTL_SENDTRIGGER_NMI: an NMI for v, injected (KVM_NMI) by
 * its own thread before it next enters the guest. */
int hvm_vcpu_send_nmi(struct vcpu *v);
/* HVM_PARAM_ACPI_IOPORTS_LOCATION: where the PM1a block and timer sit. */
int hvm_pm_set_location(struct domain *d, uint64_t v);

/* Ioreq servers (hvm_ioreq.c): the DM control op (negative errno); an
 * access handed to a device model: 1 handled, 0 not claimed, -1 the vCPU
 * must stop. */
struct keelctl_dm_req;
int hvm_ioreq_init(struct domain *d);
void hvm_ioreq_destroy(struct domain *d);
int hvm_dm_op(struct domain *d, struct keelctl_dm_req *q, void *data, uint32_t *data_len);
int hvm_ioreq_pio(struct vcpu *v, uint16_t port, int is_write, uint8_t *data, unsigned size);
int hvm_ioreq_mmio(struct vcpu *v, uint64_t gpa, int is_write, uint8_t *data, unsigned size);
/* Wait (at most timeout_ms) until the device model has taken every
 * buffered write: 0, or -ETIMEDOUT. */
int hvm_ioreq_drain(struct domain *d, unsigned timeout_ms);

/* Save and restore (hvm_save.c): the kind's ops (core/kind.h). */
struct srb;
struct saverec;
int hvm_save(struct domain *d, struct srb *out);
int hvm_restore_check(const struct saverec *recs, unsigned n, uint64_t nr_pages, int nr_vcpus,
		      char *err, size_t errlen);
int hvm_restore(struct domain *d, const struct saverec *recs, unsigned n, const void *shim,
		size_t shim_size);
int hvm_resume(struct domain *d, int cancel);

#endif
