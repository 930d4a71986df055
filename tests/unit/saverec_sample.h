/*
 * A small, valid keeld state written by hand from the save-record format
 * (hypervisor/core/saverec.h, hypervisor/ctl/ctl_save.c), with switches
 * that damage it one way each: for the unit tests of the restore reader
 * and the fuzz target over it.
 */
#ifndef KEEL_TESTS_SAVEREC_SAMPLE_H
#define KEEL_TESTS_SAVEREC_SAMPLE_H

#include <stdint.h>

#include "../../hypervisor/core/saverec.h"

#define TSR_PAGES 256
#define TSR_L4	  10 /* the frame the vCPU's page tables start at */

struct tsr_opts {
	uint64_t console_mfn;  /* out of range: TSR_PAGES */
	uint16_t dom_version;  /* 1 */
	uint32_t vcpu_id;      /* 0 */
	int skip_gdt;	       /* no GDT record */
	int dup_gdt;	       /* two */
	int unknown_type;      /* an extra record of type 99 */
	uint8_t page_type_at5; /* PGT_* of frame 5 */
};

extern const struct tsr_opts tsr_good;
void tsr_image(struct srb *o, const struct tsr_opts *t);

/* An HVM domain's state (hypervisor/hvm/hvm_save.c's records) of
 * TSR_PAGES frames and one vCPU, three frames populated past RAM (two
 * saved), with one damage each. */
enum tsr_hvm_damage {
	TSR_HVM_GOOD,
	TSR_HVM_PORTS,	       /* store and console on one port */
	TSR_HVM_LAPIC_SIZE,    /* a LAPIC of another size than KVM's */
	TSR_HVM_MSR,	       /* an MSR not on the list */
	TSR_HVM_CHIP_ID,       /* the IOAPIC where the slave PIC should be */
	TSR_HVM_UNPOPULATED,   /* a saved frame that is not populated */
	TSR_HVM_NO_IRQCHIP,    /* no hvm-irqchip record */
	TSR_HVM_PV_RECORD,     /* a PV kind's record among them */
	TSR_HVM_HOLE_RANGES,   /* populated ranges of another domain */
	TSR_HVM_RTC_INDEX,     /* an RTC index past 0x7f */
	TSR_HVM_RELOC_RAM,     /* a moved range over RAM */
	TSR_HVM_RELOC_UNPOP,   /* a moved range from frames not populated */
	TSR_HVM_RELOC_OVERLAP, /* two moved ranges over each other */
	TSR_HVM_RELOC_COUNT,   /* more moved ranges than a domain has */
};
void tsr_hvm_image(struct srb *o, enum tsr_hvm_damage damage);

#endif
