# libkeelctl: the library dom0 programs use to reach keeld; keelctl, its CLI.
LIBKEELCTL_SRCS := dom0/libkeelctl/keelctl.c dom0/libkeelctl/keelctl_xl.c \
	dom0/libkeelctl/keelctl_ring.c
$(eval $(call keel_library,libkeelctl,$(call objs,$(LIBKEELCTL_SRCS))))
$(eval $(call keel_program,keelctl,$(call objs,dom0/libkeelctl/keelctl_cli.c dom0/libkeelctl/keelctl_nullstore.c) $(LIB)/libkeelctl.a,))
