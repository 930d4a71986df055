# Network test guests (netfront against keel-netback on a bridge): run by
# tests/integration/net-*.sh and tests/bench/net.
NET_TEST_GUESTS := net-ping net-pair net-hostile net-blast
NET_GUEST_LIB := $(call guest_objs,tests/guests/net/net_pkt.c)
$(foreach t,$(NET_TEST_GUESTS),$(eval $(call keel_guest,$(t),$(FRONTENDS_RT_OBJS) \
	$(NETFRONT_OBJS) $(NET_GUEST_LIB) $(call guest_objs,tests/guests/net/$(t).c),\
	$(FRONTENDS_RT_LDS))))
