/*
 * The vif-bridge hotplug script's work on a dom0 (or driver domain)
 * network interface, shared by `xl devd` (a PV vif in a driver domain)
 * and the HVM device model's launch (QEMU's emulated NIC's TAP,
 * vif<dom>.<devid>-emu): the interface joins the named bridge and is
 * brought up, through the kernel's bridge ioctls; a TAP with a vifname=
 * is renamed first, as vif-common.sh renames it.
 */
#include <errno.h>
#include <linux/if.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xl_device.h"

/* @ifname into @bridge (none if NULL or ""), then up; 0 or a negative
 * errno, with *what naming the interface the failing step was on. */
int xl_netif_bridge_up(const char *ifname, const char *bridge, const char **what)
{
	struct ifreq ifr = {0};
	int s, r = 0;

	*what = ifname;
	if (strlen(ifname) >= IFNAMSIZ || (bridge && strlen(bridge) >= IFNAMSIZ))
		return -ENAMETOOLONG;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
		r = -errno;
		goto out;
	}
	if (bridge && *bridge) {
		struct ifreq br = {.ifr_ifindex = ifr.ifr_ifindex};

		snprintf(br.ifr_name, sizeof(br.ifr_name), "%s", bridge);
		if (ioctl(s, SIOCBRADDIF, &br) < 0) {
			r = -errno;
			*what = bridge;
			goto out;
		}
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0))
		r = -errno;
out:
	close(s);
	return r;
}

/* @from renamed @to (it must be down, as a TAP QEMU just made is). */
int xl_netif_rename(const char *from, const char *to)
{
	struct ifreq ifr = {0};
	int s, r = 0;

	if (strlen(from) >= IFNAMSIZ || strlen(to) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", from);
	snprintf(ifr.ifr_newname, sizeof(ifr.ifr_newname), "%s", to);
	if (ioctl(s, SIOCSIFNAME, &ifr) < 0)
		r = -errno;
	close(s);
	return r;
}
