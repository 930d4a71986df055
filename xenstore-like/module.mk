# keel-xenstored: the xs_wire store daemon, its test helpers and fuzz target.
XS_SRCS := $(addprefix xenstore-like/,xs_tree.c xs_path.c xs_tx.c xs_watch.c xs_domain.c \
	xs_conn.c xs_ring.c xs_journal.c xs_ops.c xs_ops_session.c xs_server.c xs_memconn.c)
XS_OBJS := $(call objs,$(XS_SRCS))

# The daemon also links keeld's client library: its ring mapper and event stream.
XS_KEELD_OBJS := $(call objs,xenstore-like/xs_keeld.c)
$(XS_KEELD_OBJS): CPPFLAGS += -Idom0/libkeelctl
$(eval $(call keel_program,keel-xenstored,$(XS_OBJS) $(XS_KEELD_OBJS) $(call objs,xenstore-like/xs_main.c) $(LIB)/libkeelctl.a,-lz))

UNIT_SRCS += $(wildcard tests/unit/test_xs_*.c)
UNIT_OBJS += $(XS_OBJS)
UNIT_LDLIBS += -lz -lpthread

# A misbehaving client for the hostile-input integration test.
$(eval $(call keel_program,xs-hostile,$(call objs,xenstore-like/tools/xs_hostile.c),))

# libFuzzer target: message framing, parsing and handlers (make fuzz).
$(eval $(call keel_fuzz,xs_wire_fuzz,tests/fuzz/xs_wire_fuzz.c $(XS_SRCS),-lz))
$(eval $(call keel_fuzz,xs_journal_fuzz,tests/fuzz/xs_journal_fuzz.c $(XS_SRCS),-lz))
