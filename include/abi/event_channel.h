/*
 * Keel's copy of Xen's event-channel ABI (HYPERVISOR_event_channel_op, 32):
 * the sub-op numbers, the argument block of each sub-op as the guest lays it
 * out in memory, the VIRQ numbers a guest binds, and the FIFO event-channel
 * ABI (event words and the per-vCPU control block).  Written from Xen's
 * documented interface; sizes and offsets are checked below for x86_64 so a
 * layout mistake fails the build rather than a guest.
 */
#ifndef KEEL_ABI_EVENT_CHANNEL_H
#define KEEL_ABI_EVENT_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

/* Sub-op numbers (first argument of event_channel_op). */
#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq	  1
#define EVTCHNOP_bind_pirq	  2
#define EVTCHNOP_close		  3
#define EVTCHNOP_send		  4
#define EVTCHNOP_status		  5
#define EVTCHNOP_alloc_unbound	  6
#define EVTCHNOP_bind_ipi	  7
#define EVTCHNOP_bind_vcpu	  8
#define EVTCHNOP_unmask		  9
#define EVTCHNOP_reset		  10
#define EVTCHNOP_init_control	  11
#define EVTCHNOP_expand_array	  12
#define EVTCHNOP_set_priority	  13

typedef uint32_t evtchn_port_t;

/*
 * Virtual IRQs.  Xen keeps these in xen.h; they are repeated here (guarded,
 * so a header defining them too does not clash) because bind_virq is the
 * only thing that uses them.  Per-vCPU ones: TIMER, DEBUG, XENOPROF, XENPMU.
 */
#ifndef VIRQ_TIMER
#define VIRQ_TIMER	0  /* per vCPU: timer expired or time updated */
#define VIRQ_DEBUG	1  /* per vCPU: dump debug state */
#define VIRQ_CONSOLE	2  /* global: bytes on the hypervisor console (dom0) */
#define VIRQ_DOM_EXC	3  /* global: some domain changed state (dom0) */
#define VIRQ_TBUF	4  /* global: trace records available */
#define VIRQ_DEBUGGER	6  /* global: a domain paused for debugging */
#define VIRQ_XENOPROF	7  /* per vCPU: profiling sample */
#define VIRQ_CON_RING	8  /* global: hypervisor console ring has data */
#define VIRQ_PCPU_STATE 9  /* global: physical CPU state changed */
#define VIRQ_MEM_EVENT	10 /* global: memory event */
#define VIRQ_ARGO	11 /* Argo message notification */
#define VIRQ_ENOMEM	12 /* global: hypervisor heap low */
#define VIRQ_XENPMU	13 /* per vCPU: PMU interrupt */
#define VIRQ_ARCH_0	16
#define VIRQ_ARCH_1	17
#define VIRQ_ARCH_2	18
#define VIRQ_ARCH_3	19
#define VIRQ_ARCH_4	20
#define VIRQ_ARCH_5	21
#define VIRQ_ARCH_6	22
#define VIRQ_ARCH_7	23
#define NR_VIRQS	24
#endif

/* alloc_unbound: make a port in @dom that @remote_dom may later bind to. */
struct evtchn_alloc_unbound {
	uint16_t dom;	     /* IN: DOMID_SELF or a domain the caller controls */
	uint16_t remote_dom; /* IN */
	evtchn_port_t port;  /* OUT */
};

/* bind_interdomain: connect a local port to a remote unbound port. */
struct evtchn_bind_interdomain {
	uint16_t remote_dom;	   /* IN */
	evtchn_port_t remote_port; /* IN (offset 4: natural alignment) */
	evtchn_port_t local_port;  /* OUT */
};

struct evtchn_bind_virq {
	uint32_t virq;	    /* IN: VIRQ_* */
	uint32_t vcpu;	    /* IN */
	evtchn_port_t port; /* OUT */
};

#define BIND_PIRQ__WILL_SHARE 1
struct evtchn_bind_pirq {
	uint32_t pirq;	    /* IN */
	uint32_t flags;	    /* IN: BIND_PIRQ__* */
	evtchn_port_t port; /* OUT */
};

struct evtchn_bind_ipi {
	uint32_t vcpu;	    /* IN */
	evtchn_port_t port; /* OUT */
};

struct evtchn_close {
	evtchn_port_t port; /* IN */
};

struct evtchn_send {
	evtchn_port_t port; /* IN */
};

/* status: what a port is bound to. */
#define EVTCHNSTAT_closed      0
#define EVTCHNSTAT_unbound     1
#define EVTCHNSTAT_interdomain 2
#define EVTCHNSTAT_pirq	       3
#define EVTCHNSTAT_virq	       4
#define EVTCHNSTAT_ipi	       5

struct evtchn_status {
	uint16_t dom;	    /* IN */
	evtchn_port_t port; /* IN */
	uint32_t status;    /* OUT: EVTCHNSTAT_* */
	uint32_t vcpu;	    /* OUT: vCPU the port notifies */
	union {
		struct {
			uint16_t dom;
		} unbound;
		struct {
			uint16_t dom;
			evtchn_port_t port;
		} interdomain;
		uint32_t pirq;
		uint32_t virq;
	} u; /* OUT, selected by status */
};

struct evtchn_bind_vcpu {
	evtchn_port_t port; /* IN */
	uint32_t vcpu;	    /* IN */
};

struct evtchn_unmask {
	evtchn_port_t port; /* IN */
};

struct evtchn_reset {
	uint16_t dom; /* IN */
};

/* init_control: switch the domain to FIFO events; one control block per vCPU. */
struct evtchn_init_control {
	uint64_t control_gfn; /* IN: frame holding the control block */
	uint32_t offset;      /* IN: offset of the block inside that frame */
	uint32_t vcpu;	      /* IN */
	uint8_t link_bits;    /* OUT: EVTCHN_FIFO_LINK_BITS */
	uint8_t _pad[7];
};

/* expand_array: add one page of event words. */
struct evtchn_expand_array {
	uint64_t array_gfn; /* IN */
};

struct evtchn_set_priority {
	evtchn_port_t port; /* IN */
	uint32_t priority;  /* IN: EVTCHN_FIFO_PRIORITY_MAX..MIN */
};

/* The old single-argument form (hypercall 16): a command and its block. */
struct evtchn_op {
	uint32_t cmd;
	union {
		struct evtchn_alloc_unbound alloc_unbound;
		struct evtchn_bind_interdomain bind_interdomain;
		struct evtchn_bind_virq bind_virq;
		struct evtchn_bind_pirq bind_pirq;
		struct evtchn_bind_ipi bind_ipi;
		struct evtchn_close close;
		struct evtchn_send send;
		struct evtchn_status status;
		struct evtchn_bind_vcpu bind_vcpu;
		struct evtchn_unmask unmask;
	} u;
};

/* 2-level ABI: 64 x 64 ports for a 64-bit guest. */
#define EVTCHN_2L_NR_CHANNELS 4096

/* FIFO ABI. Priority 0 is the highest. */
#define EVTCHN_FIFO_PRIORITY_MAX     0
#define EVTCHN_FIFO_PRIORITY_DEFAULT 7
#define EVTCHN_FIFO_PRIORITY_MIN     15
#define EVTCHN_FIFO_MAX_QUEUES	     (EVTCHN_FIFO_PRIORITY_MIN + 1)

/* One 32-bit event word per port: 4 state bits over a 17-bit link. */
typedef uint32_t event_word_t;

#define EVTCHN_FIFO_PENDING	31
#define EVTCHN_FIFO_MASKED	30
#define EVTCHN_FIFO_LINKED	29
#define EVTCHN_FIFO_BUSY	28
#define EVTCHN_FIFO_LINK_BITS	17
#define EVTCHN_FIFO_LINK_MASK	((1u << EVTCHN_FIFO_LINK_BITS) - 1)
#define EVTCHN_FIFO_NR_CHANNELS (1u << EVTCHN_FIFO_LINK_BITS)

/* Per-vCPU control block: a ready bitmap (bit = queue) and a head per queue. */
struct evtchn_fifo_control_block {
	uint32_t ready;
	uint32_t _rsvd;
	uint32_t head[EVTCHN_FIFO_MAX_QUEUES];
};

#if defined(__x86_64__)
_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "evtchn_alloc_unbound");
_Static_assert(offsetof(struct evtchn_alloc_unbound, port) == 4, "alloc_unbound.port");
_Static_assert(sizeof(struct evtchn_bind_interdomain) == 12, "evtchn_bind_interdomain");
_Static_assert(offsetof(struct evtchn_bind_interdomain, remote_port) == 4, "remote_port");
_Static_assert(offsetof(struct evtchn_bind_interdomain, local_port) == 8, "local_port");
_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "evtchn_bind_virq");
_Static_assert(offsetof(struct evtchn_bind_virq, port) == 8, "bind_virq.port");
_Static_assert(sizeof(struct evtchn_bind_pirq) == 12, "evtchn_bind_pirq");
_Static_assert(sizeof(struct evtchn_bind_ipi) == 8, "evtchn_bind_ipi");
_Static_assert(sizeof(struct evtchn_close) == 4, "evtchn_close");
_Static_assert(sizeof(struct evtchn_send) == 4, "evtchn_send");
_Static_assert(sizeof(struct evtchn_status) == 24, "evtchn_status");
_Static_assert(offsetof(struct evtchn_status, port) == 4, "status.port");
_Static_assert(offsetof(struct evtchn_status, status) == 8, "status.status");
_Static_assert(offsetof(struct evtchn_status, vcpu) == 12, "status.vcpu");
_Static_assert(offsetof(struct evtchn_status, u) == 16, "status.u");
_Static_assert(offsetof(struct evtchn_status, u.interdomain.port) == 20, "status.u.port");
_Static_assert(sizeof(struct evtchn_bind_vcpu) == 8, "evtchn_bind_vcpu");
_Static_assert(sizeof(struct evtchn_unmask) == 4, "evtchn_unmask");
_Static_assert(sizeof(struct evtchn_reset) == 2, "evtchn_reset");
_Static_assert(sizeof(struct evtchn_init_control) == 24, "evtchn_init_control");
_Static_assert(offsetof(struct evtchn_init_control, offset) == 8, "init_control.offset");
_Static_assert(offsetof(struct evtchn_init_control, vcpu) == 12, "init_control.vcpu");
_Static_assert(offsetof(struct evtchn_init_control, link_bits) == 16, "init_control.link");
_Static_assert(sizeof(struct evtchn_expand_array) == 8, "evtchn_expand_array");
_Static_assert(sizeof(struct evtchn_set_priority) == 8, "evtchn_set_priority");
_Static_assert(sizeof(struct evtchn_op) == 28, "evtchn_op");
_Static_assert(offsetof(struct evtchn_op, u) == 4, "evtchn_op.u");
_Static_assert(sizeof(struct evtchn_fifo_control_block) == 72, "fifo control block");
_Static_assert(offsetof(struct evtchn_fifo_control_block, head) == 8, "fifo head");
#endif

#endif
