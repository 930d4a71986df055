# libkeelctl: the library dom0 programs use to reach keeld; keelctl, its CLI.
LIBKEELCTL_SRCS := dom0/libkeelctl/keelctl.c dom0/libkeelctl/keelctl_xl.c \
	dom0/libkeelctl/keelctl_ring.c dom0/libkeelctl/keelctl_gcopy.c
$(eval $(call keel_library,libkeelctl,$(call objs,$(LIBKEELCTL_SRCS))))
$(eval $(call keel_program,keelctl,$(call objs,dom0/libkeelctl/keelctl_cli.c dom0/libkeelctl/keelctl_nullstore.c) $(LIB)/libkeelctl.a,))

# Unit tests of keeld's grant copy for dom0 processes (hypervisor/gnttab/gnttab_dom0.c,
# linked through hypervisor/module.mk's UNIT_OBJS).
UNIT_SRCS += $(wildcard tests/unit/test_gnt_dom0*.c)
