/*
 * Virtual disk names and their Xen VBD numbers (xen-vbd-interface(7)): the
 * number a frontend finds as the device's key under device/vbd/ and in the
 * backend's virtual-device node.
 *
 *   xvdX[N]  disk<=15 and part<=15: 202<<8 | disk<<4 | part
 *            otherwise (disk < 2^20, part <= 255): 1<<28 | disk<<8 | part
 *   dDpP     the same numbering as xvd, written with numbers
 *   sdX[N]   disks 0..15, parts 0..15: 8<<8 | disk<<4 | part
 *   hdX[N]   disks 0..3, parts 0..63: (disk<2 ? 3 : 22)<<8 | (disk&1)<<6 | part
 *   NUMBER   taken as the VBD number itself (hex, decimal or octal)
 *
 * Disk letters are bijective base 26 (a..z, aa..az, ...), so xvdaa is disk 26;
 * a partition number has no leading zero.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg.h"

/* Match "<prefix><letters>[<partition>]"; 1 on match. */
static int vdev_match(const char *s, const char *prefix, int max_disk, int max_part, int *disk,
		      int *part)
{
	size_t pl = strlen(prefix);
	long d = -1;
	const char *p;

	if (strncmp(s, prefix, pl))
		return 0;
	p = s + pl;
	if (!(*p >= 'a' && *p <= 'z'))
		return 0;
	while (*p >= 'a' && *p <= 'z') {
		d = (d + 1) * 26 + (*p - 'a');
		if (d > max_disk)
			return 0;
		p++;
	}
	if (!*p) {
		*disk = (int)d;
		*part = 0;
		return 1;
	}
	if (*p < '1' || *p > '9')
		return 0; /* no leading zero, no sign */
	{
		char *end;
		unsigned long pn = strtoul(p, &end, 10);

		if (*end || pn > (unsigned long)max_part)
			return 0;
		*disk = (int)d;
		*part = (int)pn;
	}
	return 1;
}

/* "d<disk>p<part>" with decimal numbers. */
static int vdev_match_dp(const char *s, int *disk, int *part)
{
	char *end;
	unsigned long d, p;

	if (s[0] != 'd' || !(s[1] >= '0' && s[1] <= '9'))
		return 0;
	d = strtoul(s + 1, &end, 10);
	if (*end != 'p' || !(end[1] >= '0' && end[1] <= '9'))
		return 0;
	p = strtoul(end + 1, &end, 10);
	if (*end || d >= (1ul << 20) || p > 255)
		return 0;
	*disk = (int)d;
	*part = (int)p;
	return 1;
}

int xlcfg_vdev_number(const char *vdev, int *pdisk, int *ppart)
{
	int disk, part;
	char *end;
	unsigned long ul;

	if (!vdev || !*vdev)
		return -EINVAL;
	if (vdev_match_dp(vdev, &disk, &part) ||
	    vdev_match(vdev, "xvd", (1 << 20) - 1, 255, &disk, &part)) {
		if (pdisk)
			*pdisk = disk;
		if (ppart)
			*ppart = part;
		if (disk <= 15 && part <= 15)
			return (202 << 8) | (disk << 4) | part;
		return (1 << 28) | (disk << 8) | part;
	}
	if (vdev[0] >= '0' && vdev[0] <= '9') {
		errno = 0;
		ul = strtoul(vdev, &end, 0);
		if (errno || *end || ul > INT_MAX)
			return -EINVAL;
		/* A raw number says nothing reliable about disk and partition. */
		if (pdisk || ppart)
			return -EINVAL;
		return (int)ul;
	}
	if (vdev_match(vdev, "hd", 3, 63, &disk, &part)) {
		if (pdisk)
			*pdisk = disk;
		if (ppart)
			*ppart = part;
		return ((disk < 2 ? 3 : 22) << 8) | ((disk & 1) << 6) | part;
	}
	if (vdev_match(vdev, "sd", 15, 15, &disk, &part)) {
		if (pdisk)
			*pdisk = disk;
		if (ppart)
			*ppart = part;
		return (8 << 8) | (disk << 4) | part;
	}
	return -EINVAL;
}

int xlcfg_vdev_name(unsigned int disk, char *buf, size_t len)
{
	char letters[8];
	int n = 0;
	unsigned long d = disk;

	if (disk >= (1u << 20))
		return -EINVAL;
	/* bijective base 26, least significant letter first */
	do {
		letters[n++] = (char)('a' + d % 26);
		d = d / 26;
	} while (d-- > 0);
	if (len < (size_t)n + 4)
		return -ENOSPC;
	memcpy(buf, "xvd", 3);
	for (int i = 0; i < n; i++)
		buf[3 + i] = letters[n - 1 - i];
	buf[3 + n] = 0;
	return 0;
}
