/*
 * The KVM layer: keeld is the only process that opens /dev/kvm.  It creates
 * one VM per domain, hands KVM the memfd mappings keeld owns, creates vCPUs
 * with the host's supported CPUID (KVM refuses EFER.LME/SCE/NX without it)
 * and puts them straight into 64-bit long mode: the PV shim never runs real-
 * or protected-mode code.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm.h"

static int kvm_fd = -1;
static int kvm_run_size;
static struct kvm_cpuid2 *kvm_cpuid;

int kvm_global_init(void)
{
	int n = 256, r;

	if (kvm_fd >= 0)
		return 0;
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		return -errno;
	if (ioctl(kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		goto bad;
	kvm_run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm_run_size <= 0)
		goto bad;
	kvm_cpuid = calloc(1, sizeof(*kvm_cpuid) + n * sizeof(struct kvm_cpuid_entry2));
	if (!kvm_cpuid)
		goto bad;
	kvm_cpuid->nent = n;
	r = ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, kvm_cpuid);
	if (r < 0)
		goto bad;
	return 0;
bad:
	r = errno ? -errno : -ENODEV;
	close(kvm_fd);
	kvm_fd = -1;
	return r;
}

int kvm_vm_create(struct kvm_vm *vm)
{
	int r = kvm_global_init();

	if (r < 0)
		return r;
	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return -errno;
	/* Needed on Intel before the first vCPU runs; harmless elsewhere. */
	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	return 0;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	vm->vm_fd = -1;
}

int kvm_vm_add_memory(struct kvm_vm *vm, uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region mr = {
		.slot = vm->nslots,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) < 0)
		return -errno;
	vm->nslots++;
	return 0;
}

int kvm_vm_slot_flags(struct kvm_vm *vm, int slot, uint64_t gpa, uint64_t size, void *hva,
		      uint32_t flags)
{
	struct kvm_userspace_memory_region mr = {
		.slot = (uint32_t)slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	if (slot < 0 || slot >= vm->nslots)
		return -EINVAL;
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) < 0 ? -errno : 0;
}

int kvm_vm_dirty_log(struct kvm_vm *vm, int slot, uint64_t *bitmap)
{
	struct kvm_dirty_log log = {.slot = (uint32_t)slot, .dirty_bitmap = bitmap};

	if (slot < 0 || slot >= vm->nslots)
		return -EINVAL;
	return ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0 ? -errno : 0;
}

int kvm_vcpu_create(struct kvm_vm *vm, int id, struct kvm_vcpu_ctx *vcpu)
{
	int r;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		return -errno;
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, kvm_cpuid) < 0)
		goto bad;
	vcpu->run_size = kvm_run_size;
	vcpu->run = mmap(NULL, kvm_run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		goto bad;
	}
	if (!getenv("KEEL_NO_SYNC_REGS")) {
		int caps = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);

		if (caps > 0 && (caps & KVM_SYNC_X86_REGS)) {
			vcpu->sync_regs = 1;
			vcpu->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
		}
		if (caps > 0 && (caps & KVM_SYNC_X86_SREGS)) {
			vcpu->sync_sregs = 1;
			vcpu->run->kvm_valid_regs |= KVM_SYNC_X86_SREGS;
		}
	}
	return 0;
bad:
	r = -errno;
	close(vcpu->fd);
	vcpu->fd = -1;
	return r;
}

void kvm_vcpu_destroy(struct kvm_vcpu_ctx *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

static void kvm_flat_segment(struct kvm_segment *s, uint16_t sel, int code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->dpl = sel & 3;
	s->type = code ? 0xb : 0x3;
	s->l = code;
	s->db = !code;
}

int kvm_vcpu_set_long_mode(struct kvm_vcpu_ctx *vcpu, const struct kvm_long_mode *lm)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	kvm_flat_segment(&sregs.cs, lm->cs, 1);
	kvm_flat_segment(&sregs.ss, lm->ss, 0);
	kvm_flat_segment(&sregs.ds, 0, 0);
	sregs.ds.unusable = 1;
	sregs.ds.present = 0;
	sregs.es = sregs.fs = sregs.gs = sregs.ds;
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.selector = lm->tr;
	sregs.tr.base = lm->tss_base;
	sregs.tr.limit = lm->tss_limit ? lm->tss_limit : 0x67;
	sregs.tr.type = 0xb; /* busy 64-bit TSS */
	sregs.tr.present = 1;
	sregs.ldt.unusable = 1;
	sregs.gdt.base = lm->gdt_base;
	sregs.gdt.limit = lm->gdt_limit;
	sregs.idt.base = lm->idt_base;
	sregs.idt.limit = lm->idt_limit;
	sregs.cr3 = lm->cr3;
	/* PAE | PGE | OSFXSR | OSXMMEXCPT (no SMEP/SMAP: the shim reads
	 * guest memory, which is user-accessible, directly). */
	sregs.cr4 = (1 << 5) | (1 << 7) | (1 << 9) | (1 << 10);
	/* PE | MP | ET | NE | WP | PG */
	sregs.cr0 = 1 | 2 | 0x10 | 0x20 | (1 << 16) | (1UL << 31);
	/* SCE | LME | LMA | NXE */
	sregs.efer = 1 | (1 << 8) | (1 << 10) | (1 << 11);
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = lm->rip;
	regs.rsp = lm->rsp;
	regs.rflags = lm->rflags ? lm->rflags : 2;
	if (kvm_regs_set(vcpu, &regs) < 0)
		return -errno;
	return 0;
}

int kvm_vcpu_run(struct kvm_vcpu_ctx *vcpu)
{
	int r = ioctl(vcpu->fd, KVM_RUN, 0);

	/* KVM stores the sync area on every return, errors included; pending
	 * dirty state was consumed on entry. */
	if (r == 0 || errno == EINTR || errno == EAGAIN)
		vcpu->ran = 1;
	return r < 0 ? -errno : 0;
}

int kvm_regs_get(struct kvm_vcpu_ctx *vcpu, struct kvm_regs *regs)
{
	if (vcpu->sync_regs && vcpu->ran) {
		*regs = vcpu->run->s.regs.regs;
		return 0;
	}
	return ioctl(vcpu->fd, KVM_GET_REGS, regs) < 0 ? -errno : 0;
}

int kvm_regs_set(struct kvm_vcpu_ctx *vcpu, const struct kvm_regs *regs)
{
	if (vcpu->sync_regs && vcpu->ran) {
		vcpu->run->s.regs.regs = *regs;
		vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		return 0;
	}
	return ioctl(vcpu->fd, KVM_SET_REGS, regs) < 0 ? -errno : 0;
}

/* Like the general registers: through the sync area once the vCPU has run
 * (before that it holds nothing), else by ioctl. */
int kvm_sregs_get(struct kvm_vcpu_ctx *vcpu, struct kvm_sregs *sregs)
{
	if (vcpu->sync_sregs && vcpu->ran) {
		*sregs = vcpu->run->s.regs.sregs;
		return 0;
	}
	return ioctl(vcpu->fd, KVM_GET_SREGS, sregs) < 0 ? -errno : 0;
}

int kvm_sregs_set(struct kvm_vcpu_ctx *vcpu, const struct kvm_sregs *sregs)
{
	if (vcpu->sync_sregs && vcpu->ran) {
		vcpu->run->s.regs.sregs = *sregs;
		vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
		return 0;
	}
	return ioctl(vcpu->fd, KVM_SET_SREGS, sregs) < 0 ? -errno : 0;
}

/* The vCPU's DR0-DR3, DR6 and DR7 as the VM sees them: KVM loads them into
 * the hardware whenever the vCPU runs.  By ioctl only (the sync area has no
 * debug registers). */
int kvm_debugregs_get(struct kvm_vcpu_ctx *vcpu, struct kvm_debugregs *dr)
{
	return ioctl(vcpu->fd, KVM_GET_DEBUGREGS, dr) < 0 ? -errno : 0;
}

int kvm_debugregs_set(struct kvm_vcpu_ctx *vcpu, const struct kvm_debugregs *dr)
{
	return ioctl(vcpu->fd, KVM_SET_DEBUGREGS, dr) < 0 ? -errno : 0;
}

uint64_t kvm_tsc_khz(struct kvm_vcpu_ctx *vcpu)
{
	int r = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);

	return r > 0 ? (uint64_t)r : 0;
}

static const char *const kvm_exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "unknown",
	[KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_IO] = "io",
	[KVM_EXIT_HYPERCALL] = "hypercall",
	[KVM_EXIT_DEBUG] = "debug",
	[KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq-window",
	[KVM_EXIT_SHUTDOWN] = "shutdown (triple fault)",
	[KVM_EXIT_FAIL_ENTRY] = "fail-entry",
	[KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_SET_TPR] = "set-tpr",
	[KVM_EXIT_TPR_ACCESS] = "tpr-access",
	[KVM_EXIT_INTERNAL_ERROR] = "internal-error",
	[KVM_EXIT_SYSTEM_EVENT] = "system-event",
};

const char *kvm_exit_name(uint32_t reason)
{
	if (reason < sizeof(kvm_exit_names) / sizeof(kvm_exit_names[0]) && kvm_exit_names[reason])
		return kvm_exit_names[reason];
	return "other";
}

int kvm_vcpu_set_cpuid(struct kvm_vcpu_ctx *vcpu, const struct kvm_cpuid_entry2 *extra, int nextra,
		       uint32_t drop_lo, uint32_t drop_hi)
{
	struct kvm_cpuid2 *c;
	int n = 0, r = 0;

	if (!kvm_cpuid || nextra < 0 || nextra > 64)
		return -EINVAL;
	c = calloc(1, sizeof(*c) + (kvm_cpuid->nent + nextra) * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	for (uint32_t i = 0; i < kvm_cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &kvm_cpuid->entries[i];
		int replaced = 0;

		for (int k = 0; k < nextra && !replaced; k++)
			replaced = extra[k].function == e->function && extra[k].index == e->index;
		if (!replaced && (e->function < drop_lo || e->function > drop_hi))
			c->entries[n++] = *e;
	}
	for (int i = 0; i < nextra; i++)
		c->entries[n++] = extra[i];
	c->nent = n;
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0)
		r = -errno;
	free(c);
	return r;
}

int kvm_cpuid_apic_id(uint32_t apic_id, struct kvm_cpuid_entry2 *out, int max)
{
	int n = 0;

	for (uint32_t i = 0; kvm_cpuid && i < kvm_cpuid->nent && n < max; i++) {
		const struct kvm_cpuid_entry2 *e = &kvm_cpuid->entries[i];

		if (e->function == 1) {
			out[n] = *e;
			out[n++].ebx = (e->ebx & 0x00ffffffu) | (apic_id << 24);
		} else if (e->function == 0xb || e->function == 0x1f) {
			out[n] = *e;
			out[n++].edx = apic_id;
		}
	}
	return n;
}
