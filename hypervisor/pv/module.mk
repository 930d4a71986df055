# Freestanding code keeld puts into PV domains: the shim, and the probe.
$(eval $(call keel_guest,pv-probe,$(call guest_objs,hypervisor/pv/probe.S),hypervisor/pv/probe.lds))
$(eval $(call keel_guest,pv-shim,$(call guest_objs,hypervisor/pv/shim.S),hypervisor/pv/shim.lds))
