# netfront: Xen's netif frontend for the guest runtime (linked into the net test guests).
NETFRONT_OBJS := $(call guest_objs,frontends/netfront/netfront.c)
