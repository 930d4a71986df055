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

#endif
