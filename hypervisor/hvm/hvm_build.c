/*
 * The HVM domain builder, as Xen's builds a domain for hvmloader: the
 * firmware (a 32-bit ELF) loaded at its physical addresses, an
 * hvm_start_info (version 1, with the memory map) in the page after it,
 * handed over in %ebx, with the BIOS image as its "firmware" module;
 * Xen's hvm_info_table at 0x9f800; the HVM parameters a toolstack sets (store and
 * console frames and ports, the ioreq and special pages, timer mode,
 * PAE, HPET); vCPU 0 in flat 32-bit protected mode, paging off, at the
 * ELF entry; CPUID with Xen's leaves at 0x40000000.
 */
#include <errno.h>
#include <string.h>

#include "abi/shared_info.h"
#include "abi/xen.h"
#include "../core/util.h"
#include "../evtchn/evtchn.h"
#include "hvm_domain.h"

#define ELF32_EHDR_SIZE 52
#define ELF32_PHDR_SIZE 32
#define ELF_PT_LOAD	1

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* Load a 32-bit x86 ELF executable's PT_LOAD segments at their physical
 * addresses in RAM below the hole; *end: the first byte past them all. */
static int hvm_load_elf32(struct domain *d, const uint8_t *img, size_t size, uint32_t *entry,
			  uint64_t *end)
{
	uint64_t low = d->hvm->low_pages << 12, top = 0;
	uint32_t phoff;
	uint16_t phnum;
	int entry_ok = 0;

	if (size < ELF32_EHDR_SIZE || memcmp(img, "\177ELF", 4) || img[4] != 1 || img[5] != 1 ||
	    rd16(img + 16) != 2 /* ET_EXEC */ || rd16(img + 18) != 3 /* EM_386 */) {
		hvlog("d%d: hvm: the firmware is not a 32-bit x86 ELF executable", d->domid);
		return -ENOEXEC;
	}
	*entry = rd32(img + 24);
	phoff = rd32(img + 28);
	phnum = rd16(img + 44);
	if (rd16(img + 42) != ELF32_PHDR_SIZE || phnum == 0 || phnum > 64 || phoff > size ||
	    (uint64_t)phnum * ELF32_PHDR_SIZE > size - phoff)
		return -ENOEXEC;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + i * ELF32_PHDR_SIZE;
		uint64_t off = rd32(ph + 4), paddr = rd32(ph + 12);
		uint64_t filesz = rd32(ph + 16), memsz = rd32(ph + 20);

		if (rd32(ph) != ELF_PT_LOAD || memsz == 0)
			continue;
		if (filesz > memsz || off + filesz > size || paddr + memsz > low ||
		    paddr < 0x1000) {
			hvlog("d%d: hvm: firmware segment %u (%#llx, %#llx bytes) does not fit",
			      d->domid, i, (unsigned long long)paddr, (unsigned long long)memsz);
			return -ENOEXEC;
		}
		memcpy(d->ram + paddr, img + off, filesz);
		memset(d->ram + paddr + filesz, 0, memsz - filesz);
		if (*entry >= paddr && *entry < paddr + memsz)
			entry_ok = 1;
		if (paddr + memsz > top)
			top = paddr + memsz;
	}
	if (!entry_ok)
		return -ENOEXEC;
	*end = top;
	return 0;
}

/* The E820 map the guest is given (start info and XENMEM_memory_map), as
 * libxl's domain_construct_memmap sets it for a domain with a device
 * model: RAM from 1 MiB to the hole (hvmloader adds the first 640 KiB and
 * the BIOS area itself), and above 4 GiB. */
unsigned hvm_memory_map(struct domain *d, struct hvm_memmap_entry *e, unsigned max)
{
	unsigned n = 0;

	if (max < 2 || d->hvm->low_pages << 12 <= HVM_LOW_MEM_START)
		return 0;
	e[n++] = (struct hvm_memmap_entry){
		HVM_LOW_MEM_START, (d->hvm->low_pages << 12) - HVM_LOW_MEM_START, XEN_E820_RAM, 0};
	if (d->hvm->high_pages)
		e[n++] = (struct hvm_memmap_entry){HVM_HIGH_MEM_START, d->hvm->high_pages << 12,
						   XEN_E820_RAM, 0};
	return n;
}

/* The start info at `at` (one page): the structure, the module list (the
 * BIOS image, if given, as the module named "firmware", which hvmloader
 * loads as its BIOS), the module's name, then the memory map. */
static int hvm_write_start_info(struct domain *d, uint64_t at, uint64_t fw, uint64_t fw_size)
{
	struct hvm_start_info si = {0};
	struct hvm_modlist_entry mod = {0};
	struct hvm_memmap_entry map[4];
	static const char name[16] = "firmware";
	uint64_t mod_at = at + sizeof(si), name_at = mod_at + sizeof(mod);
	uint64_t map_at = name_at + sizeof(name);
	unsigned n = hvm_memory_map(d, map, 4);

	if (at + 4096 > d->hvm->low_pages << 12)
		return -ENOMEM;
	si.magic = HVM_START_MAGIC;
	si.version = 1;
	if (fw_size) {
		mod = (struct hvm_modlist_entry){fw, fw_size, name_at, 0};
		si.nr_modules = 1;
		si.modlist_paddr = mod_at;
		memcpy(d->ram + mod_at, &mod, sizeof(mod));
		memcpy(d->ram + name_at, name, sizeof(name));
	}
	si.memmap_paddr = map_at;
	si.memmap_entries = n;
	memcpy(d->ram + at, &si, sizeof(si));
	memcpy(d->ram + map_at, map, n * sizeof(map[0]));
	d->hvm->start_info = at;
	return 0;
}

/* Xen's builder's table for hvmloader (build_hvm_info, with libxl's
 * apic_mode, nr_vcpus and online map): RAM below and above the hole in
 * frames, the reserved area from the first ioreq-server page. */
static void hvm_write_info_table(struct domain *d)
{
	struct hvm_info_table t = {.signature = "HVM INFO", .length = sizeof(t)};
	const struct hvm_domain *h = d->hvm;
	uint8_t sum = 0;

	t.apic_mode = 1;
	t.nr_vcpus = (uint32_t)d->nr_vcpus;
	for (int i = 0; i < d->nr_vcpus && i < HVM_MAX_VCPUS; i++)
		t.vcpu_online[i / 8] |= (uint8_t)(1 << (i % 8));
	t.low_mem_pgend = (uint32_t)h->low_pages;
	t.high_mem_pgend =
		h->high_pages ? (uint32_t)((HVM_HIGH_MEM_START >> 12) + h->high_pages) : 0;
	t.reserved_mem_pgstart = (uint32_t)HVM_IOREQ_SERVER_PFN(0);
	for (size_t i = 0; i < sizeof(t); i++)
		sum += ((const uint8_t *)&t)[i];
	t.checksum = (uint8_t)-sum;
	memset(d->ram + (HVM_INFO_PADDR & ~4095ULL), 0, 4096);
	memcpy(d->ram + HVM_INFO_PADDR, &t, sizeof(t));
}

/* Each vCPU's time record in shared_info: the TSC's scale, which
 * hvmloader reads to tell the CPU's speed (its get_cpu_mhz divides by
 * tsc_to_system_mul); system time counts from TSC 0. */
static void hvm_write_time_info(struct domain *d)
{
	struct shared_info *sh = (struct shared_info *)(d->shim + HVM_REGION_OFF_SHINFO);

	if (!d->tsc_khz)
		d->tsc_khz = kvm_tsc_khz(&d->vcpus[0].kvm);
	for (int i = 0; i < d->nr_vcpus && i < XEN_LEGACY_MAX_VCPUS; i++) {
		struct vcpu_time_info *t = &sh->vcpu_info[i].time;

		t->version = 2;
		t->tsc_timestamp = 0;
		t->system_time = 0;
		time_tsc_scale(d->tsc_khz, &t->tsc_to_system_mul, &t->tsc_shift);
	}
}

/* What a toolstack sets before the guest runs (libxl and Xen's builder). */
static int hvm_set_params(struct domain *d)
{
	uint64_t *p = d->hvm->params;
	int sp, cp;

	sp = evtchn_alloc_unbound_port(d, 0);
	cp = evtchn_alloc_unbound_port(d, 0);
	if (sp < 0 || cp < 0)
		return sp < 0 ? sp : cp;
	d->store_port = (uint32_t)sp;
	d->console_port = (uint32_t)cp;
	d->store_mfn = HVM_SPECIAL_PFN(HVM_SPECIALPAGE_XENSTORE);
	d->console_mfn = HVM_SPECIAL_PFN(HVM_SPECIALPAGE_CONSOLE);
	p[HVM_PARAM_STORE_PFN] = d->store_mfn;
	p[HVM_PARAM_STORE_EVTCHN] = d->store_port;
	p[HVM_PARAM_CONSOLE_PFN] = d->console_mfn;
	p[HVM_PARAM_CONSOLE_EVTCHN] = d->console_port;
	p[HVM_PARAM_IOREQ_PFN] = HVM_SPECIAL_PFN(HVM_SPECIALPAGE_IOREQ);
	p[HVM_PARAM_BUFIOREQ_PFN] = HVM_SPECIAL_PFN(HVM_SPECIALPAGE_BUFIOREQ);
	p[HVM_PARAM_IDENT_PT] = HVM_SPECIAL_PFN(HVM_SPECIALPAGE_IDENT_PT) << 12;
	p[HVM_PARAM_PAGING_RING_PFN] = HVM_SPECIAL_PFN(HVM_SPECIALPAGE_PAGING);
	p[HVM_PARAM_MONITOR_RING_PFN] = HVM_SPECIAL_PFN(HVM_SPECIALPAGE_ACCESS);
	p[HVM_PARAM_SHARING_RING_PFN] = HVM_SPECIAL_PFN(HVM_SPECIALPAGE_SHARING);
	p[HVM_PARAM_IOREQ_SERVER_PFN] = HVM_IOREQ_SERVER_PFN(0);
	p[HVM_PARAM_NR_IOREQ_SERVER_PAGES] = HVM_NR_IOREQ_SERVER_PAGES;
	p[HVM_PARAM_PAE_ENABLED] = 1;
	p[HVM_PARAM_HPET_ENABLED] = 1;
	p[HVM_PARAM_TIMER_MODE] = 1; /* libxl's default: no_delay_for_missed_ticks */
	p[HVM_PARAM_VPT_ALIGN] = 1;
	p[HVM_PARAM_TRIPLE_FAULT_REASON] = SHUTDOWN_reboot; /* Xen's default */
	return 0;
}

/* Xen's CPUID leaves at 0x40000000 in place of KVM's own: hvmloader looks
 * for "XenVMMXenVMM" there (README: why KVM's are not kept beside them). */
int hvm_vcpu_set_cpuid(struct vcpu *v)
{
	struct kvm_cpuid_entry2 x[6 + 16];
	int n;

	memset(x, 0, sizeof(x));
	for (int i = 0; i < 6; i++)
		x[i].function = XEN_CPUID_BASE + i;
	x[0].eax = XEN_CPUID_MAX_LEAF;
	memcpy(&x[0].ebx, "XenV", 4);
	memcpy(&x[0].ecx, "MMXe", 4);
	memcpy(&x[0].edx, "nVMM", 4);
	x[1].eax = (4u << 16) | 17u; /* Xen 4.17, as xen_version says */
	x[2].eax = 1;		     /* one hypercall page */
	x[2].ebx = XEN_HYPERCALL_MSR;
	/* Xen's APIC ID for vCPU i, 2i (the LAPIC's is KVM's vCPU id, the
	 * kind's stride), in the leaves that report it */
	n = kvm_cpuid_apic_id((uint32_t)v->kvm.id, x + 6, 16);
	return kvm_vcpu_set_cpuid(&v->kvm, x, 6 + n, XEN_CPUID_BASE, XEN_CPUID_BASE + 0xff);
}

int hvm_build_domain(struct domain *d, const struct domain_image *img)
{
	uint64_t end = 0, fw = 0, at;
	uint32_t entry;
	int r;

	if (d->hvm->low_pages <= HVM_INFO_PADDR >> 12)
		return -ENOMEM;
	r = hvm_load_elf32(d, img->kernel, img->kernel_size, &entry, &end);
	if (r < 0)
		return r;
	/* the BIOS image (the "ramdisk" of a load) after the firmware, page
	 * aligned, as Xen's builder places its modules */
	at = (end + 4095) & ~4095ULL;
	if (img->ramdisk_size) {
		fw = at;
		at = (fw + img->ramdisk_size + 4095) & ~4095ULL;
		if (at + 4096 > d->hvm->low_pages << 12) {
			hvlog("d%d: hvm: a BIOS image of %zu bytes does not fit below %#llx",
			      d->domid, img->ramdisk_size,
			      (unsigned long long)(d->hvm->low_pages << 12));
			return -EFBIG;
		}
		memcpy(d->ram + fw, img->ramdisk, img->ramdisk_size);
	}
	r = hvm_write_start_info(d, at, fw, img->ramdisk_size);
	if (r == 0)
		r = hvm_set_params(d);
	for (int i = 0; i < d->nr_vcpus && r == 0; i++)
		r = hvm_vcpu_set_cpuid(&d->vcpus[i]);
	if (r < 0)
		return r;
	hvm_write_info_table(d);
	d->hvm->entry = entry;
	memset(d->shim, 0, d->shim_size); /* shared_info, grant, ioreq and special pages */
	hvm_write_time_info(d);
	hvlog("d%d: hvm: firmware loaded up to %#llx, entry %#x, BIOS module %zu bytes, start "
	      "info %#llx, %llu+%llu MiB",
	      d->domid, (unsigned long long)end, entry, img->ramdisk_size,
	      (unsigned long long)d->hvm->start_info, (unsigned long long)(d->hvm->low_pages >> 8),
	      (unsigned long long)(d->hvm->high_pages >> 8));
	return 0;
}
