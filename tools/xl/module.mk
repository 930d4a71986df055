# xl: Keel's Xen-compatible command line (build/bin/xl).
XL_SRCS := tools/xl/xl.c tools/xl/xl_cmdtable.c tools/xl/xl_backend.c tools/xl/xl_config.c \
	tools/xl/xl_vmcontrol.c tools/xl/xl_list.c tools/xl/xl_host.c tools/xl/xl_tune.c \
	tools/xl/xl_console.c tools/xl/xl_domxml.c tools/xl/xl_monitor.c tools/xl/xl_top.c \
	tools/xl/xl_block.c tools/xl/xl_vif.c tools/xl/xl_devcmd.c tools/xl/xl_device_nodes.c \
	tools/xl/xl_globalcfg.c tools/xl/xl_migrate.c tools/xl/xl_cpumap.c \
	tools/xl/xl_xencmds.c tools/xl/xl_misc.c tools/xl/xl_dumpcore.c tools/xl/xl_devd.c \
	tools/xl/xl_cdrom.c tools/xl/xl_netif.c tools/xl/xl_vncviewer.c
XL_OBJS := $(call objs,$(XL_SRCS))
$(XL_OBJS): CPPFLAGS += -Itools/xl -Itools/xlcfg
# xl devd reaches the store itself (no backend seam: it runs in a driver domain)
$(call objs,tools/xl/xl_devd.c): CPPFLAGS += -Idom0/libkeelstore

# The real backend: keeld through libkeelctl, the store through libkeelstore,
# consoles through keel-consoled's client side when it serves them.
XL_KEEL_SRCS := tools/xl/xl_backend_keel.c tools/xl/xl_backend_keel_store.c \
	tools/xl/xl_backend_keel_create.c tools/xl/xl_backend_keel_console.c tools/xl/xl_constream.c \
	tools/xl/xl_backend_keel_tune.c tools/xl/xl_backend_keel_stats.c tools/xl/xl_backend_keel_save.c tools/xl/xl_saveimg.c \
	tools/xl/xl_backend_keel_device.c tools/xl/xl_backend_keel_dm.c \
	tools/xl/xl_backend_keel_boot.c tools/xl/xl_backend_keel_migrate.c \
	tools/xl/xl_backend_keel_dumpcore.c tools/xl/xl_hotplug.c \
	tools/xl/xl_backend_keel_hvm.c tools/xl/xl_backend_keel_qmp.c \
	tools/xl/xl_backend_keel_hvmsave.c tools/xl/xl_dm_args.c
XL_KEEL_OBJS := $(call objs,$(XL_KEEL_SRCS))
$(XL_KEEL_OBJS): CPPFLAGS += -Itools/xl -Itools/xlcfg -Idom0/libkeelctl -Idom0/libkeelstore \
	-Idom0/libkeelevtchn
# (tools/ is read before tools/xlcfg, dom0/ and backends/ are included: libraries by path)
$(eval $(call keel_program,xl,$(XL_OBJS) $(XL_KEEL_OBJS) $(LIB)/libkeelxlcfg.a \
	$(LIB)/libkeelevtchn.a $(LIB)/libkeelctl.a $(LIB)/libkeelstore.a $(LIB)/libkeelconsole.a,\
	$(shell pkg-config --libs libxml-2.0) -luuid -lz))

# xl-fixture: the same xl with a test-double backend serving domains from a
# text file ($XL_FIXTURE), for tests of the backend seam and output formats.
XL_FIXTURE_OBJS := $(call objs,tools/xl/xl_backend_fixture.c tools/xl/xl_backend_fixture_device.c)
$(XL_FIXTURE_OBJS): CPPFLAGS += -Itools/xl -Itools/xlcfg
$(eval $(call keel_program,xl-fixture,$(XL_OBJS) $(XL_FIXTURE_OBJS) $(LIB)/libkeelxlcfg.a $(LIB)/libkeelstore.a,$(shell pkg-config --libs libxml-2.0) -luuid))

# Unit tests of the console record arithmetic (the CUnit runner, build/bin/keel-unit).
UNIT_SRCS += tools/xl/test_xl_constream.c
UNIT_OBJS += $(call objs,tools/xl/xl_constream.c)

# ... and of an HVM device model's arguments from the config's keys.
UNIT_SRCS += tests/unit/test_xl_dm_args.c
UNIT_OBJS += $(call objs,tools/xl/xl_dm_args.c)
$(call objs,tests/unit/test_xl_dm_args.c): CPPFLAGS += -Itools/xl -Itools/xlcfg

# The save-image format, tested by tests/unit/test_keeld_save_image.c
# (listed by hypervisor/module.mk, which adds keeld's state reader).
UNIT_OBJS += $(call objs,tools/xl/xl_saveimg.c)

# libFuzzer target: the save-image reader.
$(eval $(call keel_fuzz,xl_saveimg_fuzz,tests/fuzz/xl_saveimg_fuzz.c tools/xl/xl_saveimg.c,-Itools/xl -lz))
