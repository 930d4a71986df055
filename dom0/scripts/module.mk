# dom0 bring-up scripts, installed next to the programs they start.
DOM0_SCRIPTS := $(BIN)/keel-dom0-up $(BIN)/keel-dom0-down $(BIN)/keel-xen-run
PROGRAMS += $(DOM0_SCRIPTS)
$(DOM0_SCRIPTS): $(BIN)/%: dom0/scripts/%
	@mkdir -p $(@D)
	install -m 0755 $< $@
