/*
 * libxentoolcore.so.1 for Keel.  Xen's libraries register every open
 * handle here so that xentoolcore_restrict_all can confine them all to one
 * domain before a device model drops privilege.  Keel has nothing to
 * confine a handle to (keeld's socket, root or group keel, is the
 * boundary), so restrict_all keeps the registry for the libraries that use
 * it but does not call their callbacks: it succeeds, and says once on
 * stderr that nothing was restricted, so nobody mistakes it for Xen's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "include/xentoolcore_internal.h"

static pthread_mutex_t toolcore_lock = PTHREAD_MUTEX_INITIALIZER;
static Xentoolcore__Active_Handle *toolcore_handles;

void xentoolcore__register_active_handle(Xentoolcore__Active_Handle *ah)
{
	pthread_mutex_lock(&toolcore_lock);
	ah->entry.next = toolcore_handles;
	if (toolcore_handles)
		toolcore_handles->entry.prev_next = &ah->entry.next;
	ah->entry.prev_next = &toolcore_handles;
	toolcore_handles = ah;
	pthread_mutex_unlock(&toolcore_lock);
}

void xentoolcore__deregister_active_handle(Xentoolcore__Active_Handle *ah)
{
	pthread_mutex_lock(&toolcore_lock);
	if (ah->entry.prev_next) {
		*ah->entry.prev_next = ah->entry.next;
		if (ah->entry.next)
			ah->entry.next->entry.prev_next = ah->entry.prev_next;
		ah->entry.next = NULL;
		ah->entry.prev_next = NULL;
	}
	pthread_mutex_unlock(&toolcore_lock);
}

int xentoolcore_restrict_all(domid_t domid)
{
	static int told;

	if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
		fprintf(stderr,
			"libxentoolcore (Keel): restrict to domain %u: handles are not "
			"restricted on Keel (keeld's socket is the privilege boundary)\n",
			domid);
	return 0;
}

int xentoolcore__restrict_by_dup2_null(int fd)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int r, e;

	if (null < 0)
		return -1;
	r = dup3(null, fd, O_CLOEXEC);
	e = errno;
	close(null);
	errno = e;
	return r < 0 ? -1 : 0;
}
