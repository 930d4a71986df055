# tests/bench/transition: a PV test guest with its own user mode, timing a
# guest user's syscall and page fault round trips against the exit floor.
$(eval $(call keel_guest,pv-transition,$(FRONTENDS_RT_OBJS) $(call guest_objs,tests/guests/pv_test.c) $(call guest_objs,tests/bench/transition/guest.c),$(FRONTENDS_RT_LDS)))
