# keeld, the hypervisor daemon, and the code it loads into guests (pv/).
KEELD_LIB_SRCS := hypervisor/kvm.c hypervisor/elf.c hypervisor/domain.c hypervisor/pv_mm.c \
	hypervisor/pv_build.c hypervisor/pv_bzimage.c hypervisor/pv_vcpu.c \
	hypervisor/pv_hypercall.c hypervisor/pv_emulate.c \
	hypervisor/pv_time.c hypervisor/evtchn.c hypervisor/pv_smp.c \
	hypervisor/gnttab.c hypervisor/pv_ptwr.c hypervisor/evtchn_fifo.c \
	hypervisor/gnttab_map.c hypervisor/gnttab_entry.c hypervisor/gnttab_dom0.c \
	hypervisor/saverec.c
# xl's control operations and save/restore (ctl_xl*.c)
KEELD_XL_SRCS := $(wildcard hypervisor/ctl_*.c)
KEELD_SRCS := hypervisor/keeld.c hypervisor/probe.c hypervisor/run.c hypervisor/daemon.c \
	$(KEELD_LIB_SRCS) $(KEELD_XL_SRCS)
$(eval $(call keel_program,keeld,$(call objs,$(KEELD_SRCS)),-lpthread -llzma -lz))

# Unit tests: the MMU rules, ELF/bzImage parsing (no VM needed).
UNIT_SRCS += $(wildcard tests/unit/test_pv_*.c) $(wildcard tests/unit/test_keeld_*.c)
UNIT_OBJS += $(call objs,$(KEELD_LIB_SRCS))
UNIT_LDLIBS += -llzma -lz -lpthread

# libFuzzer target: kernel images (bzImage payloads, ELF headers and notes).
$(eval $(call keel_fuzz,keeld_image_fuzz,hypervisor/fuzz_image.c hypervisor/elf.c hypervisor/pv_bzimage.c,-llzma -lz))
