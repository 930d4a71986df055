/*
 * An HVM domain's display, as xl reads it and libxl completes it: the
 * emulated card (vga= "stdvga", "cirrus" or "none", or the older
 * stdvga=0|1), its video RAM (videoram=, MiB), and QEMU's VNC server
 * (vnc=, vnclisten= with an optional ":DISPLAY", vncdisplay=, vncunused=,
 * vncpasswd=).  Keel's device model is qemu-xen, so libxl's qemu-xen rules
 * apply: cirrus by default with 8 MiB (at least 8), stdvga 16 MiB (at
 * least 16), none 0; VNC on by default, on 127.0.0.1, trying the next
 * free display.  The video RAM is part of memory=/maxmem=, not added to
 * them: libxl gives the guest memory= less videoram= as RAM.
 * Only an HVM domain reads these keys (xl reads them in its HVM branch).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg.h"

#define AT(key) XLCFG_KEY_POS(cfg, key)

int xlcfg_parse_display(struct xlcfg *cfg, struct xlcfg_domain *dom)
{
	const char *s;
	long l;
	int r;

	if (dom->type != XLCFG_TYPE_HVM)
		return 0;
	r = xlcfg_get_long(cfg, "videoram", 0, INT_MAX / 1024, &l);
	if (r == 0)
		dom->video_memkb = (int64_t)l * 1024;
	else if (r != -ENOENT)
		goto bad_videoram;
	/* vga= wins over stdvga=, as in xl */
	r = xlcfg_get_string(cfg, "vga", &s);
	if (r == 0) {
		if (!strcmp(s, "stdvga"))
			dom->vga = XLCFG_VGA_STD;
		else if (!strcmp(s, "cirrus"))
			dom->vga = XLCFG_VGA_CIRRUS;
		else if (!strcmp(s, "none"))
			dom->vga = XLCFG_VGA_NONE;
		else if (!strcmp(s, "qxl")) {
			xlcfg_error(cfg, AT("vga"),
				    "vga=\"qxl\": Keel has no SPICE display for QXL; use "
				    "\"stdvga\", \"cirrus\" or \"none\"");
			return -EINVAL;
		} else {
			xlcfg_error(cfg, AT("vga"), "Unknown vga \"%s\" specified", s);
			return -EINVAL;
		}
	} else if (r != -ENOENT) {
		xlcfg_error(cfg, AT("vga"), "invalid value for `vga'");
		return r;
	} else {
		r = xlcfg_get_long(cfg, "stdvga", LONG_MIN, LONG_MAX, &l);
		if (r == 0)
			dom->vga = l ? XLCFG_VGA_STD : XLCFG_VGA_CIRRUS;
		else if (r != -ENOENT) {
			xlcfg_error(cfg, AT("stdvga"), "invalid value for `stdvga'");
			return r;
		}
	}
	if ((r = xlcfg_take_tristate(cfg, "vnc", &dom->vnc)) ||
	    (r = xlcfg_take_tristate(cfg, "vncunused", &dom->vncunused)) ||
	    (r = xlcfg_take_tristate(cfg, "nographic", &dom->nographic)) ||
	    (r = xlcfg_take_string(cfg, "vnclisten", &dom->vnclisten)) ||
	    (r = xlcfg_take_string(cfg, "vncpasswd", &dom->vncpasswd)))
		return r;
	r = xlcfg_get_long(cfg, "vncdisplay", 0, 65535 - 5900, &l);
	if (r == 0)
		dom->vncdisplay = (int)l;
	else if (r != -ENOENT) {
		xlcfg_error(cfg, AT("vncdisplay"), "invalid value for `vncdisplay' (0 to %d)",
			    65535 - 5900);
		return r;
	}
	/* libxl__build_device_model_args: a display in vnclisten= and vncdisplay= both */
	if (dom->vnclisten && strchr(dom->vnclisten, ':') && dom->vncdisplay) {
		xlcfg_error(cfg, AT("vncdisplay"), "vncdisplay set, vnclisten contains display");
		return -EINVAL;
	}
	return 0;
bad_videoram:
	xlcfg_error(cfg, AT("videoram"), "invalid value for `videoram' (MiB)");
	return r;
}

const char *xlcfg_vga_name(enum xlcfg_vga v)
{
	switch (v) {
	case XLCFG_VGA_STD:
		return "std";
	case XLCFG_VGA_CIRRUS:
		return "cirrus";
	case XLCFG_VGA_NONE:
		return "none";
	default:
		return NULL;
	}
}

int xlcfg_display_set_defaults(struct xlcfg_domain *dom, FILE *report)
{
	int64_t min;

	if (dom->type != XLCFG_TYPE_HVM) {
		dom->video_memkb = 0;
		return 0;
	}
	if (dom->vga == XLCFG_VGA_DEFAULT)
		dom->vga = XLCFG_VGA_CIRRUS;
	min = dom->vga == XLCFG_VGA_STD ? 16 * 1024 : dom->vga == XLCFG_VGA_CIRRUS ? 8 * 1024 : 0;
	if (dom->video_memkb < 0)
		dom->video_memkb = min;
	if (dom->video_memkb < min) {
		if (report)
			fprintf(report, "videoram must be at least %d MB for %s on QEMU_XEN\n",
				(int)(min / 1024), dom->vga == XLCFG_VGA_STD ? "STDVGA" : "CIRRUS");
		return -EINVAL;
	}
	/* libxl builds RAM of memory= less the video RAM */
	if (dom->video_memkb >= (int64_t)dom->target_memkb ||
	    dom->video_memkb >= (int64_t)dom->max_memkb) {
		if (report)
			fprintf(report,
				"videoram (%lld MB) leaves no RAM of memory=%llu MB: the video RAM "
				"is part of the domain's memory\n",
				(long long)dom->video_memkb / 1024,
				(unsigned long long)dom->target_memkb / 1024);
		return -EINVAL;
	}
	if (dom->vnc == XLCFG_DEFAULT)
		dom->vnc = XLCFG_TRUE;
	if (dom->vnc == XLCFG_TRUE) {
		if (dom->vncunused == XLCFG_DEFAULT)
			dom->vncunused = XLCFG_TRUE;
		if (!dom->vnclisten && !(dom->vnclisten = strdup("127.0.0.1")))
			return -ENOMEM;
	}
	if (dom->nographic == XLCFG_DEFAULT)
		dom->nographic = XLCFG_FALSE;
	return 0;
}
