/*
 * The PV domain builder: puts the shim into the hole and lays out a kernel
 * the way Xen's builder does for an x86_64 PV guest.
 */
#ifndef KEEL_HV_PV_BUILD_H
#define KEEL_HV_PV_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "pv_domain.h"

#include "../core/kind.h"

int pv_build_domain(struct domain *d, const struct domain_image *a);
int pv_build_shim_region(struct domain *d, const void *shim, size_t shim_size);
/* A Linux bzImage's payload, decompressed (malloc'ed); -ENOEXEC if not one. */
int pv_bzimage_extract(const void *img, size_t size, void **elf, size_t *elf_size);
/* The kernel image unpacked (bzImage payload) and parsed in a sandboxed
 * helper process (pv_unpack.c), its answer checked: img describes the ELF
 * (in *elf, malloc'ed, or in kern itself when *elf is NULL).  0, or
 * -ENOEXEC / -ENOMEM with the reason in err. */
struct elf_image;
int pv_unpack_kernel(const void *kern, size_t size, void **elf, size_t *elf_size,
		     struct elf_image *img, char *err, size_t errlen);

#endif
