# libkeelevtchn: event channels for dom0 processes (libxenevtchn's shape).
$(eval $(call keel_library,libkeelevtchn,$(call objs,dom0/libkeelevtchn/keelevtchn.c)))
