/*
 * Following a console record that keeps only its newest bytes (keeld keeps
 * the last 64 KiB of the console output it drained for a guest and, when full, drops the
 * older half): given what was seen last time and what the record holds
 * now, where the new bytes start.
 */
#ifndef KEEL_XL_CONSTREAM_H
#define KEEL_XL_CONSTREAM_H

#include <stddef.h>

/*
 * The offset in @now from which bytes are new: @seen_len when @now extends
 * @seen, the length of the overlap when @now starts inside @seen, and 0
 * when no overlap is found (more than a record's worth went by unseen).
 */
size_t xl_constream_new_from(const char *seen, size_t seen_len, const char *now, size_t len);

#endif
