/*
 * Small helpers keeld's parts share (util.c).
 */
#ifndef KEEL_HV_UTIL_H
#define KEEL_HV_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A whole regular file of at most max bytes, malloc'ed: 0 or -errno. */
int keeld_read_file(const char *path, size_t max, void **data, size_t *size);
/* All n bytes to / from fd (a pipe, a socket), retrying short transfers
 * and EINTR: 0, -errno, or -EIO at end of file. */
int keeld_write_all(int fd, const void *p, size_t n);
int keeld_read_all(int fd, void *p, size_t n);

/* pvclock's tsc_to_system_mul and tsc_shift for a TSC of khz kHz. */
void time_tsc_scale(uint64_t khz, uint32_t *mul, int8_t *shift);

#endif
