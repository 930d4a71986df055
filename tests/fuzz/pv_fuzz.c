/*
 * The fuzz targets' shared harness (pv_fuzz.h): fresh RAM-only domains per
 * input, the input decoder and its interesting values, hypercalls through
 * keeld's table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../hypervisor/gnttab/gnttab.h"
#include "../../hypervisor/pv/pv_vcpu.h"
#include "pv_fuzz.h"

#define PT   (PTE_P | PTE_RW | PTE_US | PTE_A)
#define L1RW (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)
#define L1RO (PTE_P | PTE_US | PTE_A)

static int pvf_fd_mark; /* the lowest free descriptor before this input's setup */

static int pvf_lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd < 0) {
		fprintf(stderr, "pv_fuzz: dup: no descriptor\n");
		abort();
	}
	close(fd);
	return fd;
}

/* The initial tables (frames 1..4) and page_info as keeld validated them. */
static struct {
	int done;
	struct page_info pages[PVF_PAGES];
	uint8_t tables[4][4096];
} pvf_initial;

PVF_NOCOV static void pvf_build(struct domain *d)
{
	uint64_t *l4 = (uint64_t *)(d->ram + 1 * 4096), *l3 = (uint64_t *)(d->ram + 2 * 4096),
		 *l2 = (uint64_t *)(d->ram + 3 * 4096), *l1 = (uint64_t *)(d->ram + 4 * 4096);
	struct vcpu *v = &d->vcpus[0];

	for (int i = 0; i < PV_HOLE_NSLOTS; i++)
		d->pv->hole_l4e[i] = 0x7ff00000ULL + ((uint64_t)i << 12) + PT;
	/* The shim's code and tables are keeld's: a pattern no guest writes. */
	memset(d->shim, 0xcc, 0x8000);
	memset(d->shim + SHIM_OFF_PT, 0x5a, SHIM_OFF_VCPU - SHIM_OFF_PT);
	l4[0] = (2 << 12) | PT;
	l3[0] = (3 << 12) | PT;
	l2[0] = (4 << 12) | PT;
	for (uint64_t p = 0; p < PVF_CANARY_FIRST; p++)
		l1[p] = (p << 12) | (p >= 1 && p <= 15 && p != 5 && p != 6 ? L1RO : L1RW);
	for (uint64_t p = PVF_CANARY_FIRST; p < PVF_PAGES; p++)
		memset(d->ram + p * 4096, (int)(0xc0 + p), 4096);
	for (int k = 0; k < d->nr_vcpus; k++)
		d->vcpus[k].pv->kernel_mode = 1;
	/* As the builder leaves a domain: its L4 pinned and loaded.  keeld
	 * validates the first domain's tables; the rest get a copy of the
	 * result (the same layout gives the same types and tables), which
	 * nearly doubles the executions a second. */
	if (!pvf_initial.done) {
		if (pv_mm_get_type(v, 1, PGT_l4) < 0 || pv_mm_get_type(v, 1, PGT_l4) < 0) {
			fprintf(stderr, "pv_fuzz: the initial page tables were refused\n");
			abort();
		}
		memcpy(pvf_initial.pages, d->pv->pages, sizeof(pvf_initial.pages));
		memcpy(pvf_initial.tables, d->ram + 4096, sizeof(pvf_initial.tables));
		pvf_initial.done = 1;
	} else {
		memcpy(d->pv->pages, pvf_initial.pages, sizeof(pvf_initial.pages));
		memcpy(d->ram + 4096, pvf_initial.tables, sizeof(pvf_initial.tables));
	}
	d->pv->pages[1].pinned = 1;
	v->pv->kernel_cr3 = 1 << 12;
	d->gnttab_frames = 1;
}

PVF_NOCOV void pvf_setup(struct pvf *f, int ndoms, const uint8_t *data, size_t size)
{
	hvlog_to_stderr = 0;
	pvf_fd_mark = pvf_lowest_free_fd();
	memset(f, 0, sizeof(*f));
	f->ndoms = ndoms;
	f->p = data;
	f->n = size;
	f->reverse = size & 1;
	for (int i = 0; i < ndoms; i++) {
		int err = 0;

		f->d[i] = domain_new(&pv_kind, "fuzz", PVF_PAGES, PVF_VCPUS, DOMAIN_NO_KVM, &err);
		if (!f->d[i]) {
			fprintf(stderr, "pv_fuzz: domain_new: %d\n", err);
			abort();
		}
		if (f->d[i]->domid <= 0 || f->d[i]->domid >= DOMID_FIRST_RESERVED) {
			fprintf(stderr, "pv_fuzz: domid %d is not an ordinary one\n",
				f->d[i]->domid);
			abort();
		}
		pvf_build(f->d[i]);
	}
	pvi_snapshot(f);
	pvi_check(f);
}

void pvf_teardown(struct pvf *f)
{
	int domids[PVF_MAX_DOMS];

	for (int i = 0; i < f->ndoms; i++)
		domids[i] = f->d[i]->domid;
	/* Either may die first (a granter with its frames still mapped, a
	 * peer with channels bound); the survivor's invariants still hold. */
	for (int k = 0; k < f->ndoms; k++) {
		int i = f->reverse ? f->ndoms - 1 - k : k;

		domain_free(f->d[i]);
		f->d[i] = NULL;
		pvi_check(f);
	}
	for (int i = 0; i < f->ndoms; i++)
		if (domain_lookup(domids[i])) {
			fprintf(stderr, "pv_fuzz: domain %d still in the table\n", domids[i]);
			abort();
		}
	for (int s = 0; s < DOMAIN_TABLE_SIZE; s++)
		if (domain_table_at(s)) {
			fprintf(stderr, "pv_fuzz: table slot %d still used\n", s);
			abort();
		}
	if (pvf_lowest_free_fd() != pvf_fd_mark) {
		fprintf(stderr, "pv_fuzz: a descriptor leaked at domain destroy\n");
		abort();
	}
}

int pvf_more(const struct pvf *f)
{
	return f->n > 0;
}

uint8_t pvf_u8(struct pvf *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

uint16_t pvf_u16(struct pvf *f)
{
	return (uint16_t)(pvf_u8(f) | pvf_u8(f) << 8);
}

uint32_t pvf_u32(struct pvf *f)
{
	return pvf_u16(f) | (uint32_t)pvf_u16(f) << 16;
}

uint64_t pvf_u64(struct pvf *f)
{
	return pvf_u32(f) | (uint64_t)pvf_u32(f) << 32;
}

uint64_t pvf_frame(struct pvf *f, int i)
{
	struct domain *d = f->d[i];
	uint8_t b = pvf_u8(f);
	uint8_t k = b & 15;

	switch (b >> 4) {
	case 0:
	case 1:
	case 2:
		return k % 8; /* 0, the tables 1..4, the argument frames, spare 7 */
	case 3:
	case 4:
		return 7 + k % 9; /* spare: new tables */
	case 5:
	case 6:
	case 7:
		return 16 + (b - 0x50) % 40; /* data */
	case 8:
		return (SHIM_GPA + SHIM_OFF_SHARED_INFO) >> 12;
	case 9:
		return gnttab_first_mfn(d) + k % 4; /* grant frames; status after them */
	case 10:
		return ((SHIM_GPA + SHIM_OFF_GNTTAB) >> 12) + 32 + k % 4; /* status frames */
	case 11:
	case 12:
		return (GNTTAB_WINDOW_GPA >> 12) + k % 8; /* foreign window */
	case 13:
		return (SHIM_GPA >> 12) + k * 3; /* the shim: code, IDT, GDT, tables */
	case 14:
		return PVF_PAGES + k; /* just past RAM */
	default: {
		static const uint64_t far[16] = {~0ULL,	       ~0ULL >> 12, 1ULL << 40, 1ULL << 36,
						 PV_PAGE_SIZE, 0xfffff,	    0x100000,	0x7fffffff,
						 1ULL << 52,   0x80000000,  1ULL << 20, 1ULL << 28,
						 0xFFFFFULL,   1ULL << 39,  0x12345,	0x1800001};
		return far[k];
	}
	}
}

uint64_t pvf_pte(struct pvf *f, int i)
{
	static const uint64_t flags[8] = {
		PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D,
		PTE_P | PTE_US | PTE_A,
		PTE_P | PTE_RW,
		PTE_P,
		PTE_P | PTE_RW | PTE_PS,
		PTE_P | PTE_NX | PTE_A,
		0,
		PTE_RW | PTE_US,
	};
	uint8_t b = pvf_u8(f);
	uint64_t mfn = pvf_frame(f, i);

	return ((mfn << 12) & PTE_ADDR) | flags[b & 7] | ((b & 8) ? (uint64_t)(b >> 4) << 52 : 0);
}

uint64_t pvf_entry_addr(struct pvf *f, int i)
{
	uint64_t mfn = pvf_frame(f, i);
	uint8_t b = pvf_u8(f);
	unsigned idx;

	switch (b & 3) {
	case 0:
		idx = (b >> 2) % 16; /* the first slots: what is mapped */
		break;
	case 1:
		idx = 16 + (b >> 2) % 48;
		break;
	case 2:
		idx = 255 + (b >> 2) % 18; /* around the hole slots */
		break;
	default:
		idx = 448 + (b >> 2);
		break;
	}
	return (mfn << 12) + idx * 8 + ((b & 0x80) && (b & 0x40) ? (b >> 2) % 8 : 0);
}

uint64_t pvf_va(struct pvf *f, int i)
{
	uint8_t b = pvf_u8(f);

	switch (b >> 5) {
	case 0:
	case 1:
	case 2:
	case 3:
		return pvf_frame(f, i) << 12 | (b & 31) * 8; /* identity-mapped low frames */
	case 4:
		return PVF_ARG_VA + (b & 31) * 128;
	case 5:
		return HYPERVISOR_VIRT_START + ((uint64_t)(b & 31) << 30);
	case 6:
		return 0x0000800000000000ULL + (b & 31); /* non-canonical */
	default:
		return ((uint64_t)(b & 31) << 21) | (0x7fffULL << 33);
	}
}

void *pvf_arg(struct pvf *f, int i, size_t off)
{
	return f->stage[i] + off;
}

long pvf_hypercall(struct pvf *f, int i, uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
		   uint64_t a4)
{
	struct kvm_regs regs;
	struct pv_hcall_ctx c = {&f->d[i]->vcpus[0], &regs, 0};
	uint64_t a[6] = {a1, a2, a3, a4, 0, 0};

	static int trace = -1;
	long r;

	if (trace < 0)
		trace = getenv("PVF_TRACE") != NULL;
	memset(&regs, 0, sizeof(regs));
	for (int pg = 0; pg < 2; pg++) /* a page the guest cannot write keeps what it had */
		(void)pv_copy_to_guest(c.v, PVF_ARG_VA + pg * 4096, f->stage[i] + pg * 4096, 4096);
	r = pv_do_hypercall(&c, nr, a);
	if (trace) /* PVF_TRACE=1 build/fuzz/TARGET INPUT: what an input does */
		fprintf(stderr, "d%d hypercall %llu(%#llx, %#llx, %#llx, %#llx) = %ld\n",
			f->d[i]->domid, (unsigned long long)nr, (unsigned long long)a1,
			(unsigned long long)a2, (unsigned long long)a3, (unsigned long long)a4, r);
	if (trace && nr == __HYPERVISOR_grant_table_op && a2 >= PVF_ARG_VA &&
	    a2 < PVF_ARG_VA + 0x1f00) { /* the op's block, its status in it */
		uint8_t b[32] = {0};

		(void)pv_copy_from_guest(c.v, b, a2, sizeof(b));
		for (int k = 0; k < 32; k++)
			fprintf(stderr, "%02x%s", b[k], k % 8 == 7 ? " " : "");
		fputc('\n', stderr);
	}
	return r;
}
