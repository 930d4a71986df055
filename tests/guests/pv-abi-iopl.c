/*
 * pv-abi-iopl: Xen's virtual IOPL from inside a guest.  PHYSDEVOP_set_iopl
 * sets it; the guest kernel counts as ring 1, user mode as ring 3; with
 * VMASST_TYPE_architectural_iopl the kernel counts as ring 0 and the IOPL
 * is the one in the iret frame's flags, and bounce frames carry it back.
 * cli/sti it admits do nothing (Xen leaves the event mask alone); port I/O
 * it admits is Xen's for a domain granted no ports: all ones and dropped
 * writes, except the RTC index and a dword CONFIG_ADDRESS, which read back.
 * What it does not admit stays a #GP.
 */
#include "pv_test.h"

static char kstack[8192] __attribute__((aligned(16)));
static char ustack[8192] __attribute__((aligned(16)));
uint64_t gp_count, gp_cs, fault_rflags, sys_rflags, user_al, user_cmos;
static int phase;

void after_user(void) __attribute__((noreturn, used));

/*
 * #GP and #UD step over the instruction.  The user code tries a port
 * read, cli, a port write and read of the RTC index, then syscalls to
 * syscall_cb, which goes on in after_user.
 */
__asm__(".text\n"
	"user_entry:\n"
	"	mov $0x11, %eax\n"
	"	in $0x80, %al\n"
	"	mov %rax, user_al(%rip)\n"
	"	cli\n"
	"	mov $0x70, %edx\n"
	"	mov $0x5a, %eax\n"
	"	out %al, (%dx)\n"
	"	mov $0x22, %eax\n"
	"	in (%dx), %al\n"
	"	mov %rax, user_cmos(%rip)\n"
	"	syscall\n"
	"1:	jmp 1b\n"
	"syscall_cb:\n"
	"	mov 32(%rsp), %rax\n"
	"	mov %rax, sys_rflags(%rip)\n"
	"	call after_user\n");
extern char user_entry[], syscall_cb[];

static void fault_handler(struct pvt_frame *f)
{
	const uint8_t *ip = (const uint8_t *)f->rip;
	int len = ip[0] == 0x0f ? 2 : (ip[0] & 0xfc) == 0xe4 ? 2 : 1;

	/* a #GP with error code 0 that is not at a two-byte opcode */
	if (f->vector == 13 && f->error == 0 && ip[0] != 0x0f)
		gp_count++;
	gp_cs = f->cs;
	fault_rflags = f->rflags;
	f->rip += len;
}

static long set_iopl(uint32_t iopl)
{
	struct physdev_set_iopl io = {iopl};

	return HYPERCALL(__HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, &io, 0);
}

static uint32_t inb(uint16_t port)
{
	uint32_t v = 0x11;

	__asm__ volatile("inb %w1, %b0" : "+a"(v) : "Nd"(port) : "memory");
	return v;
}

static uint32_t inw(uint16_t port)
{
	uint32_t v = 0x1111;

	__asm__ volatile("inw %w1, %w0" : "+a"(v) : "Nd"(port) : "memory");
	return v;
}

static uint64_t inl(uint16_t port)
{
	uint64_t v = 0x1111111111111111UL;

	__asm__ volatile("inl %w1, %k0" : "+a"(v) : "Nd"(port) : "memory");
	return v;
}

static void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %b0, %w1" ::"a"(v), "Nd"(port) : "memory");
}

static void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %k0, %w1" ::"a"(v), "Nd"(port) : "memory");
}

/* To user mode at user_entry with these flags, by the iret hypercall. */
static void __attribute__((noreturn)) enter_user(uint64_t rflags)
{
	user_al = user_cmos = 0;
	pvt_enter_user((uint64_t)user_entry, (uint64_t)ustack + sizeof(ustack) - 64, rflags);
}

void after_user(void)
{
	uint64_t n = gp_count;
	long r;

	switch (phase++) {
	case 0: /* kernel may (IOPL 1), user may not */
		rt_check(n == 4, "user mode at IOPL 1: in, cli, out, in each #GP", n);
		rt_check(gp_cs == FLAT_USER_CS64, "the #GP came from user mode", gp_cs);
		rt_check((user_al & 0xff) == 0x11, "the refused in left al alone", user_al);
		gp_count = 0;
		set_iopl(3);
		enter_user(0x202);
	case 1:
		rt_check(n == 0, "user mode at IOPL 3: no #GP", n);
		rt_check(user_al == 0xff, "user in from an unbacked port reads all ones", user_al);
		rt_check(user_cmos == 0x5a, "user out/in of the RTC index reads back", user_cmos);
		r = HYPERCALL(__HYPERVISOR_vm_assist, VMASST_CMD_enable,
			      VMASST_TYPE_architectural_iopl, 0);
		rt_check(r == 0, "vm_assist architectural_iopl", r);
		/* now the iret frame's IOPL is the virtual IOPL */
		enter_user(0x202);
	case 2:
		rt_check(n == 4, "architectural: iret with IOPL 0, user in/cli/out #GP", n);
		rt_check((fault_rflags & 0x3000) == 0, "the #GP frame carries IOPL 0",
			 fault_rflags);
		rt_check((sys_rflags & 0x3000) == 0, "so does the syscall frame", sys_rflags);
		/* the kernel is ring 0 now: IOPL 0 admits it */
		gp_count = 0;
		rt_check(inb(0x80) == 0xff && gp_count == 0,
			 "architectural: kernel in at IOPL 0 (ring 0)", gp_count);
		gp_count = 0;
		enter_user(0x3202);
	case 3:
		rt_check(n == 0, "architectural: iret with IOPL 3, user in/out allowed", n);
		rt_check(user_cmos == 0x5a && user_al == 0xff, "and they read what Xen's do",
			 user_cmos);
		rt_check((sys_rflags & 0x3000) == 0x3000, "the syscall frame carries IOPL 3",
			 sys_rflags);
		__asm__ volatile("ud2" ::: "memory");
		rt_check((fault_rflags & 0x3000) == 0x3000, "a kernel #UD frame carries IOPL 3",
			 fault_rflags);
		set_iopl(0);
		__asm__ volatile("ud2" ::: "memory");
		rt_check((fault_rflags & 0x3000) == 0, "set_iopl(0) shows in the next frame",
			 fault_rflags);
		set_iopl(3);
		r = HYPERCALL(__HYPERVISOR_vm_assist, VMASST_CMD_disable,
			      VMASST_TYPE_architectural_iopl, 0);
		rt_check(r == 0, "vm_assist architectural_iopl off", r);
		__asm__ volatile("ud2" ::: "memory");
		rt_check((fault_rflags & 0x3000) == 0,
			 "without it frames carry IOPL 0 whatever the virtual IOPL", fault_rflags);
		set_iopl(0);
		gp_count = 0;
		inb(0x80);
		rt_check(gp_count == 1, "and the kernel at IOPL 0 is ring 1 again: #GP", gp_count);
		rt_test_done();
	default:
		rt_check(0, "unexpected return from user mode", phase);
		rt_test_done();
	}
}

void test_main(void)
{
	struct start_info *si = rt_start_info;
	static const struct pvt_trap traps[] = {{13, 0, fault_handler}, {6, 0, fault_handler}};
	struct vcpu_info *vi = &rt_shared_info->vcpu_info[0];
	uint8_t mask;
	long r;

	rt_check(pvt_traps_install(traps, 2) == 0, "set_trap_table", 0);
	rt_events_init(); /* maps shared_info */

	/* Boot IOPL is 0: the kernel (ring 1) may not. */
	gp_count = 0;
	__asm__ volatile("cli" ::: "memory");
	rt_check(gp_count == 1, "IOPL 0: cli is a #GP", gp_count);
	rt_check(inb(0x80) == 0x11 && gp_count == 2, "IOPL 0: in is a #GP", gp_count);

	r = set_iopl(4);
	rt_check(r == -XEN_EINVAL, "REFUSED: set_iopl 4", r);
	rt_check(set_iopl(1) == 0, "set_iopl 1", 0);
	gp_count = 0;
	mask = vi->evtchn_upcall_mask;
	__asm__ volatile("cli" ::: "memory");
	rt_check(gp_count == 0 && vi->evtchn_upcall_mask == mask,
		 "IOPL 1: cli passes and leaves the event mask alone", vi->evtchn_upcall_mask);
	__asm__ volatile("sti" ::: "memory");
	rt_check(gp_count == 0 && vi->evtchn_upcall_mask == mask, "IOPL 1: so does sti",
		 vi->evtchn_upcall_mask);
	rt_check(inb(0x80) == 0xff, "in from an unbacked port: all ones", 0);
	outb(0x80, 0x12);
	rt_check(inl(0x1234) == 0xffffffffUL, "in dword: all ones, zero-extended", 0);
	outb(0x70, 0x8a);
	rt_check(inb(0x70) == 0x8a, "the RTC index reads back", inb(0x70));
	rt_check(inb(0x71) == 0xff, "the RTC data port is not the domain's", inb(0x71));
	rt_check(inw(0x70) == 0xff8a, "a word at the RTC index: index, then all ones", inw(0x70));
	outl(0xcf8, 0x80001234);
	rt_check(inl(0xcf8) == 0x80001234, "CONFIG_ADDRESS (dword) reads back", inl(0xcf8));
	rt_check(inw(0xcf8) == 0xffff, "but not as a word", inw(0xcf8));
	rt_check(inl(0xcfc) == 0xffffffffUL, "no PCI configuration space", 0);
	rt_check(gp_count == 0, "none of it a #GP", gp_count);
	r = HYPERCALL(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_4gb_segments_notify,
		      0);
	rt_check(r == 0, "vm_assist 4gb_segments_notify (accepted, as Xen)", r);

	/* User mode: the kernel's top slot in a user L4, a kernel stack, a
	 * syscall callback. */
	r = pvt_user_setup(si->nr_pages - 4, kstack + sizeof(kstack), syscall_cb);
	rt_check(r == 0, "user mode set up (user L4, kernel stack, syscall callback)", r);
	gp_count = 0;
	enter_user(0x202); /* IOPL 1 still: the user (ring 3) may not */
}
