# Keel's builds of Xen's dom0 libraries (libxen*.so.1 and libxenctrl.so.4.17,
# Xen 4.17's SONAMEs and symbol versions) on libkeelctl/libkeelevtchn/
# libkeelgnttab, into build/lib/xen/; and the tools their tests use.
XENLIBS := dom0/xenlibs
XENLIBS_LIB := $(LIB)/xen

$(eval $(call keel_shlib,libxentoolcore.so.1,$(call pic_objs,$(XENLIBS)/toolcore.c),$(XENLIBS)/libxentoolcore.map,))
$(eval $(call keel_shlib,libxenevtchn.so.1,$(call pic_objs,$(XENLIBS)/evtchn.c dom0/libkeelevtchn/keelevtchn.c $(LIBKEELCTL_SRCS)),$(XENLIBS)/libxenevtchn.map,))
$(eval $(call keel_shlib,libxengnttab.so.1,$(call pic_objs,$(XENLIBS)/gnttab.c dom0/libkeelgnttab/keelgnttab.c $(LIBKEELCTL_SRCS)),$(XENLIBS)/libxengnttab.map,))
$(eval $(call keel_shlib,libxenforeignmemory.so.1,$(call pic_objs,$(XENLIBS)/foreignmemory.c $(LIBKEELCTL_SRCS)),$(XENLIBS)/libxenforeignmemory.map,))
$(eval $(call keel_shlib,libxendevicemodel.so.1,$(call pic_objs,$(XENLIBS)/devicemodel.c $(LIBKEELCTL_SRCS)),$(XENLIBS)/libxendevicemodel.map,-lpthread))
$(eval $(call keel_shlib,libxenctrl.so.4.17,$(call pic_objs,$(XENLIBS)/ctrl.c $(LIBKEELCTL_SRCS)),$(XENLIBS)/libxenctrl.map,-lpthread))

# Test tools: the ABI checker (dlopen/dlvsym), and a dom0 peer linked
# against the shared libraries above only (found through its RUNPATH).
$(eval $(call keel_program,keel-xenlibs-dlcheck,$(call objs,$(XENLIBS)/xenlibs_dlcheck.c),-ldl))
PROGRAMS += $(BIN)/keel-xenlibs-peer
$(BIN)/keel-xenlibs-peer: $(call objs,$(XENLIBS)/xenlibs_peer.c) $(XENLIBS_LIB)/libxenevtchn.so.1 $(XENLIBS_LIB)/libxengnttab.so.1 \
		$(XENLIBS_LIB)/libxenforeignmemory.so.1 $(XENLIBS_LIB)/libxentoolcore.so.1 \
		$(XENLIBS_LIB)/libxenctrl.so.4.17 $(XENLIBS_LIB)/libxendevicemodel.so.1
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -Wl,-rpath,'$$ORIGIN/../lib/xen'

# Unit tests of libxentoolcore's registry (the plain object, not the .so).
UNIT_SRCS += $(wildcard tests/unit/test_xenlibs_*.c)
UNIT_OBJS += $(call objs,$(XENLIBS)/toolcore.c)
