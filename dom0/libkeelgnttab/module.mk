# libkeelgnttab: grant mappings for dom0 processes (libxengnttab's shape);
# keel-evtgnt-echo: the dom0 half of pv-events-dom0.sh, on both libraries.
$(eval $(call keel_library,libkeelgnttab,$(call objs,dom0/libkeelgnttab/keelgnttab.c)))
$(eval $(call keel_program,keel-evtgnt-echo,$(call objs,dom0/libkeelgnttab/evtgnt_echo.c) $(LIB)/libkeelgnttab.a $(LIB)/libkeelevtchn.a $(LIB)/libkeelctl.a,))
# keel-gcopy-check: the dom0 half of pv-grant-dom0copy.sh (keeld's grant copy).
$(eval $(call keel_program,keel-gcopy-check,$(call objs,dom0/libkeelgnttab/gcopy_check.c) $(LIB)/libkeelgnttab.a $(LIB)/libkeelctl.a,))
# keel-grant-holder: maps and binds, then waits for kill -9 (pv-grant-dom0release.sh).
$(eval $(call keel_program,keel-grant-holder,$(call objs,dom0/libkeelgnttab/grant_holder.c) $(LIB)/libkeelgnttab.a $(LIB)/libkeelevtchn.a $(LIB)/libkeelctl.a,))
