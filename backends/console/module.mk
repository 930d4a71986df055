# backends/console: keel-consoled (rings, logs with rotation, per-domain
# sockets, store discovery) and the client side xl's console_open uses.
CONS_SRCS := $(addprefix backends/console/,cons_ring.c cons_log.c cons_server.c cons_client.c \
	cons_xs.c)
CONS_OBJS := $(call objs,$(CONS_SRCS))
$(eval $(call keel_library,libkeelconsole,$(CONS_OBJS)))
# Libraries by path: backends/common and dom0 are included after this file.
# cons_keeld.c (keeld's record of console output) is the daemon's alone: it needs libkeelctl.
$(eval $(call keel_program,keel-consoled,$(call objs,backends/console/cons_main.c backends/console/cons_keeld.c) $(CONS_OBJS) \
	$(LIB)/libkeelbackend.a $(LIB)/libkeelstore.a $(LIB)/libkeelctl.a $(XEN_DROPIN),-lpthread \
	$(XEN_DROPIN_RPATH)))

UNIT_SRCS += $(wildcard tests/unit/test_console_*.c)
UNIT_OBJS += $(CONS_OBJS)
