/*
 * Keel's freestanding PV guest runtime: hypercalls (issued with `syscall`,
 * as Linux does since it dropped the hypercall page), console output on the
 * PV console ring, and the start_info of the running domain.
 */
#ifndef KEEL_GUEST_H
#define KEEL_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/arch-x86_64.h"
#include "abi/shared_info.h"
#include "abi/xen.h"

extern struct start_info *rt_start_info;
extern char hypercall_page[];

static inline long hypercall5(unsigned nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			      uint64_t a5)
{
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
			 : "a"((uint64_t)nr)
			 : "rcx", "r11", "memory");
	return ret;
}

#define HYPERCALL(nr, a1, a2, a3) \
	hypercall5(nr, (uint64_t)(a1), (uint64_t)(a2), (uint64_t)(a3), 0, 0)

/* The same call through the hypercall page the builder filled in. */
static inline long hypercall_page_call(unsigned nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
	long ret;
	register uint64_t r10 __asm__("r10") = 0;
	register uint64_t r8 __asm__("r8") = 0;

	__asm__ volatile("call *%[fn]"
			 : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
			 : [fn] "r"(hypercall_page + nr * 32)
			 : "rcx", "r11", "memory");
	return ret;
}

void rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Bytes on the domain's console (its PV console ring; console.c). */
void rt_console_write(const char *buf, unsigned n);
void rt_vprintf(const char *fmt, va_list ap);
void rt_shutdown(unsigned reason) __attribute__((noreturn));
void *rt_memset(void *d, int c, size_t n);
void *rt_memcpy(void *d, const void *s, size_t n);
int rt_memcmp(const void *a, const void *b, size_t n);
int rt_vsnprintf(char *buf, unsigned size, const char *fmt, va_list ap);
int rt_snprintf(char *buf, unsigned size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
unsigned rt_strlen(const char *s);
int rt_streq(const char *a, const char *b);
void rt_strlcpy(char *d, const char *s, unsigned size);

/* Test bookkeeping: each check prints, the end prints the verdict. */
void rt_check(int ok, const char *what, long got);
/* Parameters on the command line as "key=value": the value, or NULL / -1. */
const char *rt_cmdline_arg(const char *key);
long rt_cmdline_num(const char *key);
void rt_test_done(void) __attribute__((noreturn));

/* Event channels (events.c). */
#define RT_MAX_PORTS 256
#define RT_MAX_VCPUS XEN_LEGACY_MAX_VCPUS /* vcpu_info in shared_info */
extern struct shared_info *rt_shared_info;
extern volatile uint64_t rt_event_counts[RT_MAX_PORTS];
long rt_events_init(void); /* idempotent */
long rt_evtchn_op(unsigned cmd, void *arg);
uint64_t rt_now_ns(void);
long rt_set_timer(uint64_t deadline, unsigned flags); /* vCPU 0's one-shot timer */
/* vcpu's one-shot timer: Xen lets only the vCPU itself set it. */
long rt_set_timer_on(unsigned vcpu, uint64_t deadline, unsigned flags);
/*
 * vcpu's VIRQ_TIMER port, bound (from any vCPU) on first use and kept
 * MASKED for polling (rt_evtchn_wait); bound again, maybe at another
 * number, after a resume in a new life, so read it again after one.
 */
long rt_timer_port(unsigned vcpu);
/* Xen's suspend protocol, the event layer's part (suspend.c calls these). */
void rt_events_suspend(void);
long rt_events_resume(int fresh);
/* Wait (SCHEDOP_poll, 5 ms at a time) until port's upcall count reaches
 * want; 0 if timeout_ns passes first. */
int rt_wait_event_count(uint32_t port, uint64_t want, uint64_t timeout_ns);

/* The test program's entry. */
void test_main(void);

#endif
