/* An HVM device model's arguments from the config's keys (xl_dm_args.c). */
#ifndef KEEL_XL_DM_ARGS_H
#define KEEL_XL_DM_ARGS_H

#include <stddef.h>

#include "xlcfg.h"

/* How many arguments xl_dm_hvm_args can write for @d (without the NULL). */
size_t xl_dm_hvm_args_max(const struct xlcfg_domain *d);
/* libxl's USB and platform arguments, device_model_args=, "-machine
 * xenfv" and device_model_args_hvm= into @argv (NULL-terminated; @max
 * slots); the count, -E2BIG for too few slots, -EINVAL for a usbversion=
 * libxl refuses.  The strings are @d's or constants. */
int xl_dm_hvm_args(const struct xlcfg_domain *d, char **argv, size_t max);

#endif
