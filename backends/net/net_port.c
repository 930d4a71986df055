/*
 * The host side of a vif, through the kernel's TUN and bridge drivers with
 * ioctls only (no `ip`, no `brctl`): a TAP device with a virtio-net header
 * in front of every frame, the host-side MAC Xen's vif scripts give a vif
 * (fe:ff:ff:ff:ff:ff: never the guest's own), the MTU, and membership of a
 * Linux bridge.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netback.h"

/* A socket just for interface ioctls. */
static int net_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (s < 0)
		return -errno;
	if (ioctl(s, req, ifr) < 0)
		err = -errno;
	close(s);
	return err;
}

static int net_ifname(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	if (!name[0] || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	memcpy(ifr->ifr_name, name, strlen(name) + 1);
	return 0;
}

static int net_if_up(const char *name)
{
	struct ifreq ifr;
	int err = net_ifname(&ifr, name);

	if (!err)
		err = net_ioctl(SIOCGIFFLAGS, &ifr);
	if (err)
		return err;
	ifr.ifr_flags |= IFF_UP;
	return net_ioctl(SIOCSIFFLAGS, &ifr);
}

int net_tap_open(const char *name, unsigned mtu, bool up, int *out)
{
	static const uint8_t host_mac[6] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff};
	int hdr = sizeof(struct virtio_net_hdr), fd, err;
	struct ifreq ifr;

	err = net_ifname(&ifr, name);
	if (err)
		return err;
	if (mtu < 68 || mtu > 65535 - NET_ETH_HLEN)
		return -EINVAL;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		err = -errno;
		goto fail;
	}
	net_ifname(&ifr, name);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, host_mac, 6);
	if ((err = net_ioctl(SIOCSIFHWADDR, &ifr)))
		goto fail;
	net_ifname(&ifr, name);
	ifr.ifr_mtu = (int)mtu;
	if ((err = net_ioctl(SIOCSIFMTU, &ifr)) || (up && (err = net_if_up(name))))
		goto fail;
	*out = fd;
	return 0;
fail:
	close(fd);
	return err;
}

int net_tap_set_offload(int fd, bool csum)
{
	return ioctl(fd, TUNSETOFFLOAD, csum ? TUN_F_CSUM : 0) < 0 ? -errno : 0;
}

int net_bridge_create(const char *br)
{
	int s, err = 0;
	char name[IFNAMSIZ];

	if (!br[0] || strlen(br) >= IFNAMSIZ)
		return -EINVAL;
	snprintf(name, sizeof(name), "%s", br);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (ioctl(s, SIOCBRADDBR, name) < 0 && errno != EEXIST)
		err = -errno;
	close(s);
	return err ? err : net_if_up(br);
}

static int net_bridge_port(const char *br, const char *ifname, unsigned long req)
{
	struct ifreq ifr;
	int err = net_ifname(&ifr, ifname), index;

	if (!err)
		err = net_ioctl(SIOCGIFINDEX, &ifr);
	if (err)
		return err;
	index = ifr.ifr_ifindex;
	if ((err = net_ifname(&ifr, br)))
		return err;
	ifr.ifr_ifindex = index;
	return net_ioctl(req, &ifr);
}

int net_bridge_add(const char *br, const char *ifname)
{
	return net_bridge_port(br, ifname, SIOCBRADDIF);
}

int net_bridge_del_if(const char *br, const char *ifname)
{
	return net_bridge_port(br, ifname, SIOCBRDELIF);
}
