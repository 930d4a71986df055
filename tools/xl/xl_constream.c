/*
 * The arithmetic of following keeld's console record (xl_constream.h),
 * kept apart from the process and socket plumbing so it can be tested
 * on its own.
 */
#include <string.h>

#include "xl_constream.h"

#define XL_CONSTREAM_ANCHOR 64

size_t xl_constream_new_from(const char *seen, size_t seen_len, const char *now, size_t len)
{
	size_t anchor = len < XL_CONSTREAM_ANCHOR ? len : XL_CONSTREAM_ANCHOR;
	const char *p = seen, *end = seen + seen_len;

	if (!seen_len)
		return 0;
	if (len >= seen_len && !memcmp(now, seen, seen_len))
		return seen_len;
	/* the record was cut: find where @now begins inside @seen */
	while (anchor && p < end && (p = memmem(p, (size_t)(end - p), now, anchor)) != NULL) {
		size_t tail = (size_t)(end - p);

		if (tail <= len && !memcmp(p, now, tail))
			return tail;
		p++;
	}
	return 0;
}
