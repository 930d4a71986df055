# xl: Keel's Xen-compatible command line (build/bin/xl).
XL_SRCS := tools/xl/xl.c tools/xl/xl_cmdtable.c tools/xl/xl_backend.c tools/xl/xl_config.c \
	tools/xl/xl_vmcontrol.c tools/xl/xl_list.c tools/xl/xl_host.c tools/xl/xl_tune.c \
	tools/xl/xl_console.c tools/xl/xl_domxml.c
XL_OBJS := $(call objs,$(XL_SRCS))
$(XL_OBJS): CPPFLAGS += -Itools/xl -Itools/xlcfg
# (tools/xl/module.mk is read before tools/xlcfg/module.mk, so name the libraries here)
$(eval $(call keel_program,xl,$(XL_OBJS) $(LIB)/libkeelxlcfg.a,$(shell pkg-config --libs libxml-2.0) -luuid))

# xl-fixture: the same xl with a test-double backend serving domains from a
# text file ($XL_FIXTURE), for tests of the backend seam and output formats.
XL_FIXTURE_OBJS := $(call objs,tools/xl/xl_backend_fixture.c)
$(XL_FIXTURE_OBJS): CPPFLAGS += -Itools/xl -Itools/xlcfg
$(eval $(call keel_program,xl-fixture,$(XL_OBJS) $(XL_FIXTURE_OBJS) $(LIB)/libkeelxlcfg.a,$(shell pkg-config --libs libxml-2.0) -luuid))
