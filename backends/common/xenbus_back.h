/*
 * The backend half of xenbus for dom0 backend processes, on libkeelstore.
 * A bus watches /local/domain/<self>/backend/<type>, finds the devices the
 * toolstack writes there (<type>/<frontend-domid>/<devid>), reads their
 * frontend's location and drives the XenbusState handshake as Linux's
 * xenbus backends do: probe -> InitWait; frontend Initialised or Connected
 * -> connect -> Connected; frontend Closing -> disconnect, Closing;
 * frontend Closed -> Closed (and the device is dropped once the toolstack
 * set online=0 or removed its node); frontend back to Initialising after
 * Closed -> InitWait again; a driver that waits for its hotplug script
 * connects only once the script is done.  A driver
 * supplies the four callbacks; one bus
 * serves any number of devices and domains.  Only the bus thread talks to
 * the store; device threads ask for a disconnect with xb_device_request_close.
 */
#ifndef KEEL_XENBUS_BACK_H
#define KEEL_XENBUS_BACK_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/xenbus.h"
#include "bk_transport.h"

struct ks_handle;
struct xb_bus;
struct xb_device;

struct xb_driver {
	const char *type; /* "vbd", "vif", "console" */
	/* New backend node: read the toolstack's keys, publish features (-> InitWait). */
	int (*probe)(struct xb_device *dev);
	/* The frontend published its rings: read them, start serving (-> Connected). */
	int (*connect)(struct xb_device *dev);
	/* Stop serving and release the frontend's grants and ports (idempotent). */
	void (*disconnect)(struct xb_device *dev);
	/* The device goes away: free what probe allocated. */
	void (*remove)(struct xb_device *dev);
	/* Optional: log where a connected device stands (rings, counters). */
	void (*dump)(struct xb_device *dev);
	/*
	 * Optional: whether the toolstack's hotplug work for the device is done.
	 * Until it is, a device whose frontend is ready stays in InitWait,
	 * unconnected (Linux's netback serves nothing before its hotplug script
	 * ran), and the bus asks again on each change under its backend
	 * directory.  NULL: always done.
	 */
	bool (*hotplug_done)(struct xb_device *dev);
};

struct xb_device {
	struct xb_bus *bus;
	uint16_t domid; /* the frontend's domain */
	uint32_t devid;
	char be_path[256];
	char fe_path[256];
	int state;	     /* ours (XenbusState) */
	int fe_state;	     /* the frontend's, last read */
	bool connected;	     /* connect() succeeded and disconnect() not yet called */
	int close_requested; /* set from device threads */
	void *priv;	     /* the driver's */
	struct xb_device *next;
};

/* Connect to the store at @socket (NULL: default) and watch our backend directory. */
int xb_bus_open(const char *socket, const struct xb_driver *drv, const struct bk_transport *tp,
		struct xb_bus **out);
/* Disconnect and remove every device, close the store connection. */
void xb_bus_close(struct xb_bus *bus);
/* Serve until *stop becomes non-zero (checked at least every @tick_ms). */
int xb_bus_run(struct xb_bus *bus, volatile int *stop, int tick_ms);
/* Ask xb_bus_run to have the driver dump every connected device at its next
 * tick (async-signal-safe: bk_backend_main calls it on SIGUSR1). */
void xb_bus_request_dump(void);
/*
 * A backend daemon's whole main(): --store, the real transport, serve @drv's
 * devices until SIGTERM/SIGINT (bk_main.c).  Returns the exit status.
 */
int bk_backend_main(int argc, char **argv, const char *prog, const struct xb_driver *drv);
/* One round: handle pending watch events and close requests, waiting <= timeout_ms. */
int xb_bus_process(struct xb_bus *bus, int timeout_ms);

const struct bk_transport *xb_bus_transport(const struct xb_bus *bus);
struct ks_handle *xb_bus_store(const struct xb_bus *bus);
unsigned xb_bus_device_count(const struct xb_bus *bus);

/* Keys under the backend or frontend directory.  Strings are malloc'd. */
int xb_read_be(struct xb_device *dev, const char *key, char **value);
int xb_read_fe(struct xb_device *dev, const char *key, char **value);
/* Unsigned decimal key; -EINVAL if it is not one or exceeds @max. */
int xb_read_fe_uint(struct xb_device *dev, const char *key, unsigned long max, unsigned long *out);
int xb_read_be_uint(struct xb_device *dev, const char *key, unsigned long max, unsigned long *out);
int xb_write_be(struct xb_device *dev, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int xb_switch_state(struct xb_device *dev, int state);
/* xenbus_dev_fatal: log, write the error node, go to Closing. */
void xb_device_fatal(struct xb_device *dev, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* From any thread: the device misbehaved; the bus thread will disconnect it. */
void xb_device_request_close(struct xb_device *dev);

#endif
