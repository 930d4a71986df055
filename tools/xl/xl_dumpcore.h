/*
 * xl dump-core: the ELF core file layout Xen's xc_domain_dumpcore writes
 * (format 0.1: .note.Xen, .xen_prstatus, .xen_pages, .xen_p2m), plus
 * program headers that place the pages at an x86_64 Linux PV guest's
 * kernel virtual addresses, so gdb reads the guest's memory by address.
 */
#ifndef KEEL_XL_DUMPCORE_H
#define KEEL_XL_DUMPCORE_H

#include <stdint.h>

struct xl_dumpcore_image {
	const void *ram; /* the guest's frames [0, nr_pages), identity P2M */
	uint64_t nr_pages;
	const void *vcpu_ctx; /* nr_vcpus struct vcpu_guest_context */
	uint32_t nr_vcpus;
	uint32_t xen_major, xen_minor;
	const char *xen_extra, *xen_caps;
};

/* Write @img to @fd (at its start); -errno. */
int xl_dumpcore_write(int fd, const struct xl_dumpcore_image *img);

#endif
