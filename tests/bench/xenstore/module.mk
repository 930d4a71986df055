# The xenstore benchmark's client and echo-server floor.
$(eval $(call keel_program,xs-bench,$(call objs,tests/bench/xenstore/xs_bench.c),-lpthread))
