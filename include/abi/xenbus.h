/*
 * The XenbusState values a frontend and a backend write to their "state"
 * keys in the store while they connect and disconnect (Xen's io/xenbus.h),
 * and their names for logs and tools.
 */
#ifndef KEEL_ABI_XENBUS_H
#define KEEL_ABI_XENBUS_H

enum xenbus_state {
	XenbusStateUnknown = 0,
	XenbusStateInitialising = 1,
	XenbusStateInitWait = 2,    /* backend: waiting for frontend details */
	XenbusStateInitialised = 3, /* frontend: ring details published */
	XenbusStateConnected = 4,
	XenbusStateClosing = 5,
	XenbusStateClosed = 6,
	XenbusStateReconfiguring = 7,
	XenbusStateReconfigured = 8,
};

typedef enum xenbus_state XenbusState;

#define XENBUS_STATE_MAX XenbusStateReconfigured

/* The state's name without the "XenbusState" prefix, or "Invalid". */
static inline const char *xenbus_state_name(int state)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait",	    "Initialised",  "Connected",
		"Closing", "Closed",	   "Reconfiguring", "Reconfigured",
	};

	if (state < 0 || state > XENBUS_STATE_MAX)
		return "Invalid";
	return names[state];
}

#endif
