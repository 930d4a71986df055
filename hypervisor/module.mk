# keeld, the hypervisor daemon, and the code it loads into guests (pv/).
KEELD_SRCS := hypervisor/keeld.c hypervisor/kvm.c hypervisor/elf.c hypervisor/probe.c \
	hypervisor/run.c hypervisor/daemon.c
$(eval $(call keel_program,keeld,$(call objs,$(KEELD_SRCS)),-lpthread -llzma -lz))
