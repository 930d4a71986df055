# The one CUnit runner: tests/unit/main.c plus every module's UNIT_SRCS,
# linked against the real objects under test (UNIT_OBJS), each once even
# when several modules' suites need it.
UNIT_MAIN := tests/unit/main.c tests/unit/unit_store.c
$(eval $(call keel_program,keel-unit,$(call objs,$(UNIT_MAIN) $(UNIT_SRCS)) $(sort $(UNIT_OBJS)),$(UNIT_LDLIBS) -lcunit))
