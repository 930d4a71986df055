# backends/net: netback (TAP and bridge by ioctl, tx with scatter-gather,
# checksum/GSO and credit limiting, rx by copy, xenbus "vif" driver), the
# keel-netback daemon, and the TEST netfront over the loopback transport.
NET_SRCS := $(addprefix backends/net/,net_port.c net_tx.c net_rx.c net_vif.c net_xenbus.c \
	netfront_loop.c)
NET_OBJS := $(call objs,$(NET_SRCS))
$(eval $(call keel_library,libkeelnetback,$(NET_OBJS)))
# Libraries by path: backends/common and dom0 are included after this file.
$(eval $(call keel_program,keel-netback,$(call objs,backends/net/net_main.c) $(NET_OBJS) \
	$(LIB)/libkeelbackend.a $(LIB)/libkeelstore.a $(XEN_DROPIN),-lpthread $(XEN_DROPIN_RPATH)))

UNIT_SRCS += $(wildcard tests/unit/test_netback_*.c)
UNIT_OBJS += $(NET_OBJS)
