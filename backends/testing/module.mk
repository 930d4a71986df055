# backends/testing: keel-backend-loopback, a TEST-ONLY program running the
# real backends against in-process frontends over the loopback test
# transport (integration tests and tests/bench/io).
LB_SRCS := $(addprefix backends/testing/,lb_main.c lb_net_ping.c lb_xenbus_vbd.c lb_xenbus_vif.c \
	lb_bench_io.c)
# Libraries by path: backends/common and dom0 are included after this file.
$(eval $(call keel_program,keel-backend-loopback,$(call objs,$(LB_SRCS)) \
	$(LIB)/libkeelblkback.a $(LIB)/libkeelnetback.a $(LIB)/libkeelbackend.a \
	$(LIB)/libkeelstore.a,-lpthread))
