# Keel — top-level build.
#
# One non-recursive make for the whole tree.  Each part of the tree describes
# itself in a `module.mk` (programs, libraries, guest images, unit tests) using
# the helpers in mk/rules.mk; this file sets the flags and the top-level goals.
#
#   make            build everything into build/ (bin/, lib/, guests/)
#   make check      install what tests need, build, run every test
#   make check SAN=1  the same with AddressSanitizer + UBSan (in build-san/)
#   make demo       install, build, and run the demo
#   make stress     the race-hunting tests, long (30 boots, 20 save/restore rounds)
#   make bench      run the benchmarks under tests/bench/
#   make lint       cppcheck and clang-format over the tree
#   make fuzz       build the libFuzzer targets (clang)
#   make fuzz-long  the PV handler fuzz targets, 10^6 inputs each (not in check)

TOP   := $(CURDIR)
SAN   ?= 0
ifeq ($(SAN),1)
BUILD ?= build-san
else
BUILD ?= build
endif
BIN    := $(BUILD)/bin
LIB    := $(BUILD)/lib
OBJ    := $(BUILD)/obj
GUESTS := $(BUILD)/guests
FUZZ   := $(BUILD)/fuzz

CC      ?= cc
FUZZCC  ?= clang
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CSTD    := -std=gnu11
OPT     ?= -O2 -g
CPPFLAGS := -Iinclude -D_GNU_SOURCE -MMD -MP $(KEEL_EXTRA_CPPFLAGS)
CFLAGS   := $(CSTD) $(OPT) $(WARN) -fno-strict-aliasing
LDFLAGS  :=
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
CFLAGS   += $(SANFLAGS)
LDFLAGS  += $(SANFLAGS)
endif

# Freestanding code that runs inside a guest VM (the PV shim, the guest
# runtime, in-guest tests).  Never sanitized: there is no libc there.
GUEST_CFLAGS := $(CSTD) -O2 -g $(WARN) -ffreestanding -fno-builtin -nostdlib \
	-fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mno-sse -mno-mmx \
	-mno-80387 -mgeneral-regs-only -fno-asynchronous-unwind-tables \
	-fno-strict-aliasing -fcf-protection=none
GUEST_CPPFLAGS := -Iinclude -MMD -MP
GUEST_LDFLAGS  := -nostdlib -static -no-pie -Wl,--build-id=none -z noexecstack -Wl,--no-warn-rwx-segments

PROGRAMS   :=
LIBRARIES  :=
SHLIBS     :=
GUEST_IMAGES :=
FUZZ_TARGETS :=
UNIT_SRCS  :=
UNIT_OBJS  :=
UNIT_LDLIBS :=

.PHONY: all check stress demo bench lint format fuzz fuzz-long deps clean unit
all:

include mk/rules.mk
include $(sort $(wildcard */module.mk */*/module.mk */*/*/module.mk))
include mk/tests.mk

all: $(PROGRAMS) $(LIBRARIES) $(SHLIBS) $(GUEST_IMAGES)

deps:
	@scripts/install-deps

check: deps
	@$(MAKE) --no-print-directory all $(BIN)/keel-unit
	@KEEL_BUILD=$(BUILD) SAN=$(SAN) tests/run-tests $(TESTS)

demo: deps
	@$(MAKE) --no-print-directory all
	@KEEL_BUILD=$(BUILD) scripts/demo

# Long runs of the tests that look for races: 30 Debian boots with every
# device, 20 save/restore rounds a vCPU count (each runs shorter in check).
stress: deps
	@$(MAKE) --no-print-directory all
	@KEEL_BUILD=$(BUILD) SAN=$(SAN) KEEL_BOOTS=$${KEEL_BOOTS:-30} \
		KEEL_SR_ROUNDS=$${KEEL_SR_ROUNDS:-20} tests/run-tests linux-devices-boot linux-saverestore

bench: deps
	@$(MAKE) --no-print-directory all
	@KEEL_BUILD=$(BUILD) tests/bench/run $(BENCHES)

fuzz: $(FUZZ_TARGETS)

# The PV handler fuzz targets for 10^6 inputs each (KEEL_FUZZ_RUNS), one
# after the other: tens of minutes here, so not part of check (which runs
# each for 15 s: pv-handlers-fuzz).
fuzz-long: deps
	@$(MAKE) --no-print-directory $(FUZZ)/pv_mm_fuzz $(FUZZ)/pv_gnttab_fuzz $(FUZZ)/pv_evtchn_fuzz
	@KEEL_BUILD=$(BUILD) tests/fuzz/run-long

lint:
	@scripts/lint

format:
	@scripts/lint --fix

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
