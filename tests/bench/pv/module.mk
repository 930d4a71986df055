# tests/bench/pv: the guest and host halves of the PV benchmarks.
$(eval $(call keel_guest,pv-bench,$(FRONTENDS_RT_OBJS) $(call guest_objs,tests/bench/pv/guest.c),$(FRONTENDS_RT_LDS)))
$(OBJ)/guest/tests/bench/%.o: GUEST_CFLAGS += -mcmodel=kernel
$(eval $(call keel_program,keel-bench-loop,$(call objs,tests/bench/pv/loop_host.c),))
