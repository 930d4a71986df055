/*
 * What the in-guest ABI tests share (pv_test.c): exception handlers in C
 * behind Xen's trap table, the way back through the iret hypercall, guest
 * user mode (a user L4, a kernel stack, a syscall callback, the iret into
 * it) and the small MMU calls they all make.
 *
 * A trap reaches its handler with Xen's bounce frame (rcx, r11, [error
 * code], rip, cs, rflags, rsp, ss) turned into a struct pvt_frame: the
 * caller-saved registers, the vector, and an error code of -1 for the
 * vectors that have none (int $n among them).  The handler may change
 * rip (step over an instruction), rflags and the saved registers; the
 * frame goes back through the iret hypercall (flags 0).
 */
#ifndef KEEL_TESTS_GUESTS_PV_TEST_H
#define KEEL_TESTS_GUESTS_PV_TEST_H

#include "../../frontends/runtime/keel_guest.h"
#include "../../frontends/runtime/page.h"

#define PVT_PTE_RW 0x67UL /* present, writable, user, accessed, dirty */

struct pvt_frame {
	uint64_t rbx, r10, r9, r8, rdi, rsi, rdx, rax; /* saved by the stub */
	uint64_t vector;
	uint64_t rcx, r11;
	uint64_t error; /* -1: the vector has none */
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*pvt_handler)(struct pvt_frame *f);

/* One trap-table entry: the vector, the privilege that may raise it with
 * `int $n` (Xen's DPL: 0 kernel only... 3 user too), the handler. */
struct pvt_trap {
	uint8_t vector, dpl;
	pvt_handler fn;
};

/* set_trap_table with these entries (n of them, at most 32); 0 or the error. */
long pvt_traps_install(const struct pvt_trap *traps, unsigned n);

/* update_va_mapping of one page (with UVMF_INVLPG). */
long pvt_uvm(const void *va, uint64_t pte);
/* One mmuext_op on the domain itself (arg1 a frame). */
long pvt_mmuext(unsigned cmd, uint64_t mfn);

/*
 * Guest user mode as Xen gives it: frame ul4 becomes the user L4 (empty
 * but for the kernel's top slot, where the test's code and data are, so
 * user code may run there), kstack_top the stack traps and syscalls from
 * user mode arrive on, syscall_cb the callback a user `syscall` reaches.
 * Returns 0, or the first failing hypercall's error.
 */
long pvt_user_setup(uint64_t ul4, void *kstack_top, void *syscall_cb);
/* Into user mode at rip, on stack rsp, with rflags (the iret hypercall). */
void pvt_enter_user(uint64_t rip, uint64_t rsp, uint64_t rflags) __attribute__((noreturn));

/* A kernel-mode context for VCPUOP_initialise: entry on stack_top, events
 * enabled, the boot page tables. */
void pvt_vcpu_context(struct vcpu_guest_context *c, void (*entry)(void), void *stack_top);

/* pvclock as a guest reads it: the TSC, a record copied under its version
 * protocol (version included), system time from a record at a TSC value. */
uint64_t pvt_rdtsc(void);
void pvt_time_read(const volatile struct vcpu_time_info *src, struct vcpu_time_info *dst);
uint64_t pvt_time_ns(const struct vcpu_time_info *t, uint64_t tsc);

#endif
