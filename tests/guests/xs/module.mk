# Guests for the real store ring and console ring tests (xenstore-guest-ring, console-real).
XS_TEST_GUESTS := xs-ring cons-echo
$(foreach t,$(XS_TEST_GUESTS),$(eval $(call keel_guest,$(t),$(FRONTENDS_RT_OBJS) \
	$(call guest_objs,tests/guests/xs/$(t).c),$(FRONTENDS_RT_LDS))))
