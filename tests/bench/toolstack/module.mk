# tests/bench/toolstack: the timing helper of the toolstack benchmark.
TS_BENCH_OBJS := $(call objs,tests/bench/toolstack/bench_toolstack.c \
	tests/bench/toolstack/bench_saverestore.c)
$(TS_BENCH_OBJS): CPPFLAGS += -Idom0/libkeelctl
$(eval $(call keel_program,keel-bench-toolstack,$(TS_BENCH_OBJS) $(LIB)/libkeelctl.a,-lz))
