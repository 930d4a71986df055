# Keel's shared ABI headers are header-only; their unit suite checks layouts
# and exercises the shared-ring functions.
UNIT_SRCS += tests/unit/test_abi.c
