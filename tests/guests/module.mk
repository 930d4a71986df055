# In-guest tests: small PV kernels on Keel's runtime, run by pv-guests.sh.  Each links
# pv_test.c, what the ABI tests share (trap handlers in C, guest user mode, MMU calls).
PV_TEST_OBJS := $(call guest_objs,tests/guests/pv_test.c)
PV_GUEST_TESTS := pv-hello pv-hypercalls pv-mmu pv-traps pv-user pv-desc pv-events pv-smp pv-shutdown pv-crash pv-spin pv-idle pv-fuzz pv-ring pv-grant pv-ptwr pv-conskick pv-abi pv-abi-traps pv-abi-mm pv-abi-iopl pv-debugreg pv-consio pv-int3
$(foreach t,$(PV_GUEST_TESTS),$(eval $(call keel_guest,$(t),$(FRONTENDS_RT_OBJS) $(PV_TEST_OBJS) $(call guest_objs,tests/guests/$(t).c),$(FRONTENDS_RT_LDS))))
# Event-channel and grant-table guests run by tests/integration/pv-events*.sh, pv-grant*.sh.
EVT_GUEST_TESTS := evt-pingpong gnt-copy evt-fifo evt-timer evt-limit evt-dom0pp gnt-map evt-periodic \
	gnt-dom0copy evt-timearea
EVT_GUEST_TESTS += gnt-dom0release gnt-abi evt-timeline pv-victim pv-hostile-regress drv-hostile
$(foreach t,$(EVT_GUEST_TESTS),$(eval $(call keel_guest,$(t),$(FRONTENDS_RT_OBJS) $(PV_TEST_OBJS) $(call guest_objs,tests/guests/$(t).c),$(FRONTENDS_RT_LDS))))
