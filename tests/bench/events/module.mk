# tests/bench/events: host baselines (pipe ping-pong, memcpy of 64 pages).
$(eval $(call keel_program,keel-bench-events,$(call objs,tests/bench/events/host.c),))
