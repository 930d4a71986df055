/* Shared between libvirt_out.c and libvirt_in.c. */
#ifndef KEEL_XLCFG_LIBVIRT_H
#define KEEL_XLCFG_LIBVIRT_H

/* Namespace of Keel's <metadata> element (what libvirt has no place for). */
#define XLCFG_LIBVIRT_NS "https://keel.invalid/xml/xl/1"

#endif
