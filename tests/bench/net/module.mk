# tests/bench/net: host baselines (AF_PACKET frames on a veth, ICMP echo over a veth).
$(eval $(call keel_program,keel-bench-net,$(call objs,tests/bench/net/host.c),))
