/*
 * `keeld probe IMAGE`: run the pv-probe kernel (hypervisor/pv/probe.S) in a
 * bare long-mode VM and print which privileged instructions this host's KVM
 * executes, with the measured costs.  The PV shim's design (iretq rather
 * than sysretq, one `out` per exit to keeld) rests on these answers, and
 * tests/integration/pv-probe.sh keeps them as a regression test.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../pv/elf.h"
#include "keeld.h"
#include "../core/kvm.h"

#define PROBE_MEM  (8ULL << 20)
#define PROBE_PORT 0xe0

static volatile sig_atomic_t probe_timed_out;

static void probe_alarm(int sig)
{
	probe_timed_out = 1;
}

static const char *probe_str(uint8_t *mem, uint64_t gpa)
{
	if (gpa >= PROBE_MEM - 128)
		return "?";
	mem[PROBE_MEM - 1] = 0;
	return (const char *)mem + gpa;
}

static int probe_load(uint8_t *mem, const char *path, uint64_t *entry)
{
	struct elf_image img;
	size_t size;
	void *data;
	int r, i;

	r = keeld_read_file(path, 64 << 20, &data, &size);
	if (r < 0)
		return r;
	r = elf_parse(data, size, &img);
	for (i = 0; r == 0 && i < img.nsegs; i++) {
		if (img.segs[i].vaddr < 0x200000 ||
		    img.segs[i].vaddr + img.segs[i].memsz > PROBE_MEM - 0x10000) {
			r = -ENOEXEC;
			break;
		}
		elf_copy_segment(&img, i, mem + img.segs[i].vaddr);
	}
	*entry = img.entry;
	free(data);
	return r;
}

int keeld_cmd_probe(int argc, char **argv)
{
	struct kvm_long_mode lm = {0};
	struct kvm_vcpu_ctx vcpu;
	struct kvm_vm vm;
	uint64_t *pt, entry, khz, last_ok = 0;
	const char *last = "start";
	uint8_t *mem;
	int r, memfd, bad = 0, hlt_exits = 0, done = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: keeld probe PROBE-IMAGE\n");
		return 2;
	}
	memfd = memfd_create("keel-probe", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, PROBE_MEM) < 0)
		return keeld_fail("memfd", -errno);
	mem = mmap(NULL, PROBE_MEM, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED)
		return keeld_fail("mmap", -errno);
	r = probe_load(mem, argv[1], &entry);
	if (r < 0)
		return keeld_fail(argv[1], r);
	/* Identity map of the first 8 MiB with 2 MiB user pages: L4 @0x1000,
	 * L3 @0x2000, L2 @0x3000. */
	pt = (uint64_t *)(mem + 0x1000);
	pt[0] = 0x2000 | 7;
	pt = (uint64_t *)(mem + 0x2000);
	pt[0] = 0x3000 | 7;
	pt = (uint64_t *)(mem + 0x3000);
	for (int i = 0; i < (int)(PROBE_MEM >> 21); i++)
		pt[i] = ((uint64_t)i << 21) | 0x87;
	pt[PROBE_MEM >> 21] = (1ULL << 30) | 0x87; /* no memory slot behind it: MMIO */
	/* Hole slots 256 and 258 -> the first 2 MiB, user-readable: L3s at
	 * 0x4000/0x6000, L2s at 0x5000/0x7000. */
	for (int k = 0; k < 2; k++) {
		uint64_t l3 = 0x4000 + k * 0x2000, l2 = l3 + 0x1000;

		((uint64_t *)(mem + 0x1000))[256 + 2 * k] = l3 | 7;
		((uint64_t *)(mem + l3))[0] = l2 | 7;
		((uint64_t *)(mem + l2))[0] = 0x85; /* P U PS, read-only */
	}

	r = kvm_vm_create(&vm);
	if (r < 0)
		return keeld_fail("/dev/kvm", r);
	r = kvm_vm_add_memory(&vm, 0, PROBE_MEM, mem);
	if (r == 0)
		r = kvm_vcpu_create(&vm, 0, &vcpu);
	if (r < 0)
		return keeld_fail("kvm vm", r);
	lm.cr3 = 0x1000;
	lm.rip = entry;
	lm.rsp = 0x100000;
	lm.cs = 0x08;
	lm.ss = 0x10;
	r = kvm_vcpu_set_long_mode(&vcpu, &lm);
	if (r < 0)
		return keeld_fail("long mode", r);
	struct sigaction sa = {.sa_handler = probe_alarm};
	sigaction(SIGALRM, &sa, NULL);
	alarm(20); /* a probe step that never comes back must not hang a test */
	khz = kvm_tsc_khz(&vcpu);
	printf("probe: tsc %llu kHz\n", (unsigned long long)khz);

	while (!done) {
		struct kvm_regs regs;
		struct kvm_run *run = vcpu.run;

		r = kvm_vcpu_run(&vcpu);
		if (r == -EINTR && probe_timed_out) {
			ioctl(vcpu.fd, KVM_GET_REGS, &regs);
			printf("probe: step after '%s': hangs (rip %#llx)\n", last,
			       (unsigned long long)regs.rip);
			bad++;
			break;
		}
		if (r == -EINTR)
			continue;
		if (r < 0)
			return keeld_fail("KVM_RUN", r);
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.port != PROBE_PORT) /* 0xe2: the exit-cost loops */
				break;
			ioctl(vcpu.fd, KVM_GET_REGS, &regs);
			last = probe_str(mem, regs.rdi);
			if (regs.rsi == 2) {
				done = 1;
				break;
			}
			if (regs.rsi >= 0x100) {
				printf("probe: %s: FAULT vector %llu (stack %#llx %#llx %#llx)\n",
				       last, (unsigned long long)(regs.rsi - 0x100),
				       (unsigned long long)regs.rbx, (unsigned long long)regs.rcx,
				       (unsigned long long)regs.rdx);
				bad++;
				done = 1;
				break;
			}
			if (regs.rsi)
				bad++;
			last_ok = regs.rsi == 0;
			if (strstr(last, "-in-"))
				printf("probe: %s: %#llx\n", last, (unsigned long long)regs.rbx);
			else if (regs.rbx && khz)
				printf("probe: %s: %s (%.2f us total)\n", last,
				       regs.rsi ? "BAD" : "ok", regs.rbx * 1000.0 / khz);
			else
				printf("probe: %s: %s\n", last, regs.rsi ? "BAD" : "ok");
			break;
		case KVM_EXIT_MMIO:
			break;
		case KVM_EXIT_HLT:
			hlt_exits++;
			printf("probe: hlt exits to keeld: ok\n");
			break;
		case KVM_EXIT_SHUTDOWN:
			printf("probe: step after '%s': triple fault\n", last);
			done = 1;
			break;
		default:
			printf("probe: step after '%s': exit %s (%u)\n", last,
			       kvm_exit_name(run->exit_reason), run->exit_reason);
			bad++;
			done = 1;
			break;
		}
	}
	(void)last_ok;
	printf("probe: finished, %d bad, %d hlt exits\n", bad, hlt_exits);
	kvm_vcpu_destroy(&vcpu);
	kvm_vm_destroy(&vm);
	munmap(mem, PROBE_MEM);
	close(memfd);
	return 0; /* the verdicts are in the output; pv-probe.sh judges them */
}

/*
 * `keeld bare [MiB]`: the floor for domain build time: create a KVM VM with
 * a memfd of the same size, one vCPU in long mode whose first instruction
 * is an `out`, and run it to that first exit.  Prints the microseconds from
 * the command's start, measured the way `keeld run` measures its first
 * console byte (KEEL_TIMING).
 */
int keeld_cmd_bare(int argc, char **argv)
{
	struct timespec t0, t1;
	struct kvm_long_mode lm = {0};
	struct kvm_vcpu_ctx vcpu;
	struct kvm_vm vm;
	uint64_t mem = (argc > 1 ? strtoull(argv[1], NULL, 0) : 64) << 20, *pt;
	uint8_t *ram;
	int fd, r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mem < (4 << 20) || mem > (4ULL << 30))
		return keeld_fail("memory size", -EINVAL);
	fd = memfd_create("keel-bare", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, mem) < 0)
		return keeld_fail("memfd", -errno);
	ram = mmap(NULL, mem, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ram == MAP_FAILED)
		return keeld_fail("mmap", -errno);
	pt = (uint64_t *)(ram + 0x1000);
	pt[0] = 0x2000 | 7;
	pt = (uint64_t *)(ram + 0x2000);
	pt[0] = 0x3000 | 7;
	pt = (uint64_t *)(ram + 0x3000);
	pt[0] = 0x87;
	ram[0x10000] = 0xe6; /* out %al, $0xe0 */
	ram[0x10001] = PROBE_PORT;
	r = kvm_vm_create(&vm);
	if (r == 0)
		r = kvm_vm_add_memory(&vm, 0, mem, ram);
	if (r == 0)
		r = kvm_vcpu_create(&vm, 0, &vcpu);
	lm.cr3 = 0x1000;
	lm.rip = 0x10000;
	lm.rsp = 0x8000;
	lm.cs = 0x08;
	lm.ss = 0x10;
	if (r == 0)
		r = kvm_vcpu_set_long_mode(&vcpu, &lm);
	if (r == 0)
		r = kvm_vcpu_run(&vcpu);
	if (r < 0)
		return keeld_fail("bare vm", r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("bare: first exit (%s) %.1f us after start\n", kvm_exit_name(vcpu.run->exit_reason),
	       (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3);
	kvm_vcpu_destroy(&vcpu);
	kvm_vm_destroy(&vm);
	munmap(ram, mem);
	close(fd);
	return 0;
}
