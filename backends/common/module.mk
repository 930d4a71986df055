# backends/common: the transport seam (grant access, event channels), the
# daemons' transport over Xen's library API (bk_xen.c: libxengnttab,
# libxenevtchn, libxenforeignmemory), the LOOPBACK TEST TRANSPORT, and the
# backend xenbus machinery on libkeelstore.
BK_COMMON_SRCS := $(addprefix backends/common/,bk_loop.c bk_loop_evtchn.c bk_util.c xenbus_back.c \
	bk_main.c)
BK_COMMON_OBJS := $(call objs,$(BK_COMMON_SRCS))
BK_XEN_OBJS := $(call objs,backends/common/bk_xen.c)
# The project's declarations of Xen's library API (dom0/xenlibs/include).
$(BK_XEN_OBJS): CPPFLAGS += -Idom0/xenlibs/include
$(eval $(call keel_library,libkeelbackend,$(BK_COMMON_OBJS) $(BK_XEN_OBJS)))

UNIT_SRCS += $(wildcard tests/unit/test_xenbus_backend*.c)
# bk_main.c is the daemons' entry (Xen's libraries): not in the unit runner.
UNIT_OBJS += $(filter-out $(call objs,backends/common/bk_main.c),$(BK_COMMON_OBJS))
