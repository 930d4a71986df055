# tests/drvdom: TEST ONLY tools for the driver-domain tests that run Keel's
# backends inside a Linux guest (tests/integration/linux-xenlibs-blkback.sh).
$(eval $(call keel_program,keel-test-xsproxy,$(call objs,tests/drvdom/xsproxy.c),))
