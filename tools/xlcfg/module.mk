# libkeelxlcfg: xl.cfg grammar, disk/vif specs, the domain description, its
# JSON and libvirt XML forms.  Used by xl, its unit tests and a fuzz target.
XLCFG_SRCS := tools/xlcfg/cfg_lex.c tools/xlcfg/cfg_parse.c tools/xlcfg/cfg_get.c \
	tools/xlcfg/disk.c tools/xlcfg/vdev.c tools/xlcfg/vif.c tools/xlcfg/keys.c \
	tools/xlcfg/domain.c tools/xlcfg/defaults.c tools/xlcfg/display.c tools/xlcfg/dm.c tools/xlcfg/json.c tools/xlcfg/cfgout.c \
	tools/xlcfg/libvirt_out.c tools/xlcfg/libvirt_in.c \
	tools/xlcfg/libvirt_util.c tools/xlcfg/libvirt_meta.c
XLCFG_OBJS := $(call objs,$(XLCFG_SRCS))
XLCFG_LIB := $(LIB)/libkeelxlcfg.a
XLCFG_LDLIBS := $(shell pkg-config --libs libxml-2.0) -luuid
XLCFG_CFLAGS := $(shell pkg-config --cflags libxml-2.0)

$(XLCFG_OBJS): CPPFLAGS += $(XLCFG_CFLAGS) -Itools/xlcfg
$(eval $(call keel_library,libkeelxlcfg,$(XLCFG_OBJS)))

UNIT_SRCS += tests/unit/test_xlcfg_grammar.c tests/unit/test_xlcfg_disk.c \
	tests/unit/test_xlcfg_vif.c tests/unit/test_xlcfg_domain.c
UNIT_OBJS += $(XLCFG_LIB)
UNIT_LDLIBS += $(XLCFG_LDLIBS)
$(call objs,tests/unit/test_xlcfg_grammar.c tests/unit/test_xlcfg_disk.c \
	tests/unit/test_xlcfg_vif.c tests/unit/test_xlcfg_domain.c): CPPFLAGS += -Itools/xlcfg

$(eval $(call keel_fuzz,xlcfg_fuzz,tests/fuzz/xlcfg_fuzz.c $(XLCFG_SRCS),-Itools/xlcfg $(XLCFG_CFLAGS) $(XLCFG_LDLIBS)))
