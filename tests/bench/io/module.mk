# tests/bench/io: the host baseline for the guest figures.
$(eval $(call keel_program,keel-bench-hostread,$(call objs,tests/bench/io/hostread.c),))
