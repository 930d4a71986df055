/*
 * PV devices in the toolstack: the xenstore layout libxl writes for a
 * virtual block device (vbd) or network interface (vif), built as plain
 * data so that every backend writes the same nodes -- the keeld backend
 * into keel-xenstored, the test double into its fixture file -- and the
 * listing `xl block-list` / `xl network-list` print, read back through a
 * small reader callback.
 *
 * Paths (docs/misc/xenstore-paths): the frontend directory
 * /local/domain/<domid>/device/<kind>/<devid> (owned by the guest, readable
 * by the backend domain), the backend directory
 * /local/domain/<be>/backend/<kind>/<domid>/<devid> (owned by the backend
 * domain, readable by the guest), and libxl's private copy
 * /libxl/<domid>/device/<kind>/<devid> (dom0 only), which is what the
 * toolstack lists devices from, so a guest cannot invent devices.
 */
#ifndef KEEL_XL_DEVICE_H
#define KEEL_XL_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "xlcfg.h"

enum xl_dev_kind { XL_DEV_VBD, XL_DEV_VIF };

/* XenbusState values the toolstack writes and waits for. */
enum {
	XL_XENBUS_INITIALISING = 1,
	XL_XENBUS_CONNECTED = 4,
	XL_XENBUS_CLOSING = 5,
	XL_XENBUS_CLOSED = 6,
};

#define XL_DEV_MAX_KEYS 24

struct xl_dev_kv {
	const char *key;
	char *value;
};

struct xl_dev_layout {
	enum xl_dev_kind kind;
	bool qdisk; /* a vbd served by QEMU (backend/qdisk/...), not keel-blkback */
	uint32_t domid, be_domid, devid;
	char fe_path[96], be_path[128], libxl_path[96];
	struct xl_dev_kv fe[XL_DEV_MAX_KEYS], be[XL_DEV_MAX_KEYS];
	int n_fe, n_be;
};

/* "vbd" / "vif": the store's name of a kind. */
const char *xl_dev_kind_name(enum xl_dev_kind kind);

/*
 * Which backend serves a disk, as libxl picks it: QEMU's qdisk for
 * backendtype=qdisk or an image format other than raw (qcow, qcow2, vhd,
 * qed), keel-blkback (the phy backend) otherwise.
 */
bool xl_dev_vbd_is_qdisk(const struct xlcfg_disk *disk);
/*
 * The nodes of a disk (libxl's device_disk_add) for domain @domid served by
 * @be_domid: backend/vbd with the target in "params" for keel-blkback,
 * backend/qdisk with "FORMAT:TARGET" for QEMU.  For an HVM domain (@hvm)
 * a CD-ROM is always qdisk, as libxl forces it, and may be empty
 * ("empty:").  -EINVAL (with a message on stderr naming the disk) for a
 * disk no backend of Keel's can serve: no vdev number, an empty target
 * (but an HVM CD-ROM's), backendtype tap or standalone.
 */
int xl_dev_vbd_layout(uint32_t domid, uint32_t be_domid, const struct xlcfg_disk *disk, bool hvm,
		      struct xl_dev_layout *out);
/* The nodes of a vif (libxl__set_xenstore_nic); defaults must be applied and devid >= 0. */
int xl_dev_vif_layout(uint32_t domid, uint32_t be_domid, const struct xlcfg_vif *vif,
		      struct xl_dev_layout *out);
void xl_dev_layout_clear(struct xl_dev_layout *l);

/* What `xl block-list` / `xl network-list` show of one device. */
struct xl_dev_info {
	uint32_t devid, be_domid, domid;
	int state; /* the frontend's XenbusState, -1 when unreadable */
	int evtch; /* -1: none published */
	int ring_ref, tx_ring_ref, rx_ring_ref;
	char mac[18];
	char be_path[128];
};

/*
 * Reading the store for listings: @read returns 0 and a malloc'd string, or
 * -errno; @directory returns 0 and the names in one allocation (array and
 * strings, as ks_directory: free(*names) frees them all).
 */
struct xl_dev_reader {
	int (*read)(void *ctx, const char *path, char **value);
	int (*directory)(void *ctx, const char *path, char ***names, unsigned *n);
	void *ctx;
};

/* The devices of a kind a domain has, by libxl's copy, sorted by devid. */
int xl_dev_list(const struct xl_dev_reader *rd, uint32_t domid, enum xl_dev_kind kind,
		struct xl_dev_info **out, int *n);

/* Backend ops for PV devices (see xl_backend.h). */
struct xl_dev_spec {
	enum xl_dev_kind kind;
	struct xlcfg_disk *disk; /* XL_DEV_VBD */
	bool hvm;		 /* XL_DEV_VBD: a disk of an HVM domain */
	struct xlcfg_vif *vif;	 /* XL_DEV_VIF: devid -1 picks the next free one */
};

/* The vif-bridge script's work (xl_netif.c): @ifname into @bridge, up. */
int xl_netif_bridge_up(const char *ifname, const char *bridge, const char **what);
int xl_netif_rename(const char *from, const char *to);

#endif
