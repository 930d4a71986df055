# Guests for the toolstack's end-to-end tests, benchmark and demo (xl-*).
XL_TEST_GUESTS := xl-idle xl-spin xl-smp cons-live
$(foreach t,$(XL_TEST_GUESTS),$(eval $(call keel_guest,$(t),$(FRONTENDS_RT_OBJS) \
	$(call guest_objs,tests/guests/xl/$(t).c),$(FRONTENDS_RT_LDS))))
