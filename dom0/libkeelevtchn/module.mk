# libkeelevtchn: event channels for dom0 processes (libxenevtchn's shape).
$(eval $(call keel_library,libkeelevtchn,$(call objs,dom0/libkeelevtchn/keelevtchn.c)))
$(eval $(call keel_program,keel-evtchn-max,$(call objs,dom0/libkeelevtchn/evtchn_max.c) $(LIB)/libkeelevtchn.a $(LIB)/libkeelctl.a,))
$(eval $(call keel_program,keel-evtchn-pong,$(call objs,dom0/libkeelevtchn/evtchn_pong.c) $(LIB)/libkeelevtchn.a $(LIB)/libkeelctl.a,))
