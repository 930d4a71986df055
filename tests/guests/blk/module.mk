# blkfront test guests (tests/integration/blk-*.sh) and their host half.
BLK_TEST_GUESTS := blk-pattern blk-hostile blk-bench
$(foreach t,$(BLK_TEST_GUESTS),$(eval $(call keel_guest,$(t),$(FRONTENDS_RT_OBJS) \
	$(FRONTENDS_BLK_OBJS) $(call guest_objs,tests/guests/blk/$(t).c),$(FRONTENDS_RT_LDS))))
$(eval $(call keel_program,keel-blk-plan,$(call objs,tests/guests/blk/blk-plan.c),))
