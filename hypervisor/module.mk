# keeld, the hypervisor daemon, by subsystem (hypervisor/README.md has the map):
#   keeld/   the program: its commands (run, daemon, probe) and the control socket
#   core/    the domain table and lifetime, domain kinds, KVM, save records
#   pv/      keeld's PV code (builder, MMU, vCPU loop, hypercalls, time) and the shim
#   hvm/     keeld's HVM kind (builder for hvmloader, vCPU loop, hypercalls)
#   evtchn/  event channels (2-level and FIFO)
#   gnttab/  grant tables (entries, guest maps, dom0 maps and copies)
#   ctl/     control operations for dom0's toolstack (rename, tuning, save/restore)
KEELD_LIB_SRCS := $(wildcard hypervisor/core/kvm.c hypervisor/core/domain.c hypervisor/core/guest_log.c \
	hypervisor/core/saverec.c hypervisor/core/kvm_save.c hypervisor/core/sandbox.c hypervisor/core/util.c hypervisor/core/registry.c) \
	$(wildcard hypervisor/pv/*.c) $(wildcard hypervisor/hvm/*.c) $(wildcard hypervisor/evtchn/*.c) \
	$(wildcard hypervisor/gnttab/*.c)
KEELD_CTL_SRCS := $(wildcard hypervisor/ctl/*.c)
KEELD_SRCS := $(wildcard hypervisor/keeld/*.c) $(KEELD_LIB_SRCS) $(KEELD_CTL_SRCS)
$(eval $(call keel_program,keeld,$(call objs,$(KEELD_SRCS)),-lpthread -llzma -lz))

# Unit tests: the MMU rules, ELF/bzImage parsing (no VM needed).
UNIT_SRCS += $(wildcard tests/unit/test_pv_*.c) $(wildcard tests/unit/test_keeld_*.c) \
	tests/unit/saverec_sample.c
UNIT_OBJS += $(call objs,$(KEELD_LIB_SRCS) $(KEELD_CTL_SRCS))
UNIT_LDLIBS += -llzma -lz -lpthread

# libFuzzer targets: kernel images (bzImage payloads, ELF headers and notes),
# and save records as keeld's restore reads them.
$(eval $(call keel_fuzz,keeld_image_fuzz,tests/fuzz/keeld_image_fuzz.c hypervisor/pv/elf.c hypervisor/pv/pv_bzimage.c,-llzma -lz))
$(eval $(call keel_fuzz,keeld_saverec_fuzz,tests/fuzz/keeld_saverec_fuzz.c tests/unit/saverec_sample.c $(KEELD_LIB_SRCS) $(KEELD_CTL_SRCS),-lpthread -llzma -lz))
# The guest-facing handlers driven in-process on RAM-only domains, every
# invariant checked after each operation (tests/fuzz/README.md).
PV_FUZZ_SRCS := tests/fuzz/pv_fuzz.c tests/fuzz/pv_fuzz_ops.c tests/fuzz/pv_invariants.c \
	$(KEELD_LIB_SRCS) $(KEELD_CTL_SRCS)
$(foreach t,pv_mm_fuzz pv_gnttab_fuzz pv_evtchn_fuzz,$(eval $(call keel_fuzz,$(t),tests/fuzz/$(t).c $(PV_FUZZ_SRCS),-lpthread -llzma -lz)))
