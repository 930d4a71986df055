# libkeelstore: the xenstore client library for dom0 programs, and the
# `keelstore` command-line client built on it.
KS_SRCS := dom0/libkeelstore/keelstore.c
KS_OBJS := $(call objs,$(KS_SRCS))
$(eval $(call keel_library,libkeelstore,$(KS_OBJS)))
$(eval $(call keel_program,keelstore,$(call objs,dom0/libkeelstore/keelstore-cli.c) $(LIB)/libkeelstore.a,))
# Its unit suite (tests/unit/test_xs_keelstore.c) and the backends' suites
# link the object; mk/tests.mk links each object once.
UNIT_OBJS += $(KS_OBJS)
