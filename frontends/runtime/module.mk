# Keel's freestanding PV guest runtime (linked into every in-guest test):
# boot, console, events, and the frontend core (xenbus client, grant table,
# page allocator, event-channel helpers).
FRONTENDS_RT_SRCS := frontends/runtime/head.S frontends/runtime/runtime.c frontends/runtime/console.c \
	frontends/runtime/events.c frontends/runtime/rt_evtchn.c frontends/runtime/page.c \
	frontends/runtime/gnttab.c frontends/runtime/xenbus.c \
	frontends/runtime/suspend.c
FRONTENDS_RT_OBJS := $(call guest_objs,$(FRONTENDS_RT_SRCS))
FRONTENDS_RT_LDS := frontends/runtime/guest.lds
# Linked at 0xffffffff80000000 (the top 2 GiB): the kernel code model.
$(OBJ)/guest/frontends/%.o $(OBJ)/guest/tests/guests/%.o: GUEST_CFLAGS += -mcmodel=kernel
