# backends/common: the transport seam (grant access, event channels), the
# LOOPBACK TEST TRANSPORT, and the backend xenbus machinery on libkeelstore.
BK_COMMON_SRCS := $(addprefix backends/common/,bk_loop.c bk_loop_evtchn.c bk_util.c xenbus_back.c \
	bk_main.c)
BK_COMMON_OBJS := $(call objs,$(BK_COMMON_SRCS))
$(eval $(call keel_library,libkeelbackend,$(BK_COMMON_OBJS)))

UNIT_SRCS += $(wildcard tests/unit/test_xenbus_backend*.c)
UNIT_OBJS += $(BK_COMMON_OBJS)
