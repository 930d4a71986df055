# backends/common: the transport seam (grant access, event channels), keeld's
# real transport (bk_real.c, over libkeelctl), the LOOPBACK TEST TRANSPORT,
# and the backend xenbus machinery on libkeelstore.
BK_COMMON_SRCS := $(addprefix backends/common/,bk_loop.c bk_loop_evtchn.c bk_util.c xenbus_back.c \
	bk_main.c)
BK_COMMON_OBJS := $(call objs,$(BK_COMMON_SRCS))
BK_REAL_OBJS := $(call objs,backends/common/bk_real.c)
$(BK_REAL_OBJS): CPPFLAGS += -Idom0/libkeelctl
# The archive carries the libkeelctl objects the real transport calls, so the
# daemons linking libkeelbackend.a need nothing more.
BK_KEELCTL_OBJS := $(call objs,dom0/libkeelctl/keelctl.c dom0/libkeelctl/keelctl_ring.c \
	dom0/libkeelctl/keelctl_gcopy.c)
$(eval $(call keel_library,libkeelbackend,$(BK_COMMON_OBJS) $(BK_REAL_OBJS) $(BK_KEELCTL_OBJS)))

UNIT_SRCS += $(wildcard tests/unit/test_xenbus_backend*.c)
# bk_main.c is the daemons' entry (keeld's transport): not in the unit runner.
UNIT_OBJS += $(filter-out $(call objs,backends/common/bk_main.c),$(BK_COMMON_OBJS))
