# Build helpers every module.mk uses.
#
#   $(call objs,SRCS)                   object files for host C/asm sources
#   $(eval $(call keel_program,NAME,OBJS,LDLIBS))   build/bin/NAME
#   $(eval $(call keel_library,NAME,OBJS))          build/lib/NAME.a
#   $(call pic_objs,SRCS)               position-independent objects (build/obj/pic/...)
#   $(eval $(call keel_shlib,SONAME,OBJS,MAP,LDLIBS)) build/lib/xen/SONAME (shared,
#                                       versioned by the linker script MAP)
#   $(call guest_objs,SRCS)             freestanding objects (build/obj/guest/...)
#   $(eval $(call keel_guest,NAME,OBJS,LDSCRIPT))   build/guests/NAME (ELF)
#   $(eval $(call keel_fuzz,NAME,SRCS,LDLIBS))      build/fuzz/NAME (libFuzzer)
#
# A unit-test module adds its test files to UNIT_SRCS and the objects under
# test (never a file holding main) to UNIT_OBJS; all go into one CUnit runner.
#
# A program on Xen's library API (the backend daemons) lists $(XEN_DROPIN) with
# its objects and $(XEN_DROPIN_RPATH) in its LDLIBS: it links Keel's drop-in
# libxen*.so (dom0/xenlibs) and finds them through its RUNPATH, which
# LD_LIBRARY_PATH overrides (Xen's own libraries, same SONAMEs).

objs = $(patsubst %.c,$(OBJ)/%.o,$(filter %.c,$(1))) \
       $(patsubst %.S,$(OBJ)/%.o,$(filter %.S,$(1)))
XEN_DROPIN = $(addprefix $(LIB)/xen/,libxenevtchn.so.1 libxengnttab.so.1 \
	libxenforeignmemory.so.1)
XEN_DROPIN_RPATH = -Wl,-rpath,'$$$$ORIGIN/../lib/xen'
pic_objs = $(patsubst %.c,$(OBJ)/pic/%.o,$(filter %.c,$(1)))
guest_objs = $(patsubst %.c,$(OBJ)/guest/%.o,$(filter %.c,$(1))) \
             $(patsubst %.S,$(OBJ)/guest/%.o,$(filter %.S,$(1)))

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OBJ)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c $< -o $@

$(OBJ)/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OBJ)/guest/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) -c $< -o $@

$(OBJ)/guest/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

define keel_program
PROGRAMS += $(BIN)/$(1)
$(BIN)/$(1): $(2)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $(2) $(3)
endef

define keel_library
LIBRARIES += $(LIB)/$(1).a
$(LIB)/$(1).a: $(2)
	@mkdir -p $$(@D)
	rm -f $$@ && $$(AR) rcs $$@ $(2)
endef

# Shared libraries live in build/lib/xen/ under their SONAME, never beside
# (or installed over) a host's own libraries; -z defs: nothing left to
# resolve at load time but what LDLIBS names.
define keel_shlib
SHLIBS += $(LIB)/xen/$(1)
$(LIB)/xen/$(1): $(2) $(3)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -shared -Wl,-soname,$(1) -Wl,--version-script=$(3) -Wl,-z,defs \
		-o $$@ $(2) $(4)
endef

define keel_guest
GUEST_IMAGES += $(GUESTS)/$(1)
$(GUESTS)/$(1): $(2) $(3)
	@mkdir -p $$(@D)
	$$(CC) $$(GUEST_CFLAGS) $$(GUEST_LDFLAGS) -T $(3) -o $$@ $(2) -lgcc
endef

define keel_fuzz
FUZZ_TARGETS += $(FUZZ)/$(1)
$(FUZZ)/$(1): $(2)
	@mkdir -p $$(@D)
	$$(FUZZCC) $$(CSTD) -O1 -g -I$$(TOP)/include -D_GNU_SOURCE -DKEEL_FUZZ \
		-fsanitize=fuzzer,address,undefined -o $$@ $(2) $(3)
endef
