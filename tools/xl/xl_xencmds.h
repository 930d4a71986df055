/* Xen 4.17's xl commands and Keel's status for each (xl_xencmds.c). */
#ifndef KEEL_XL_XENCMDS_H
#define KEEL_XL_XENCMDS_H

enum xl_xen_status { XL_XEN_WORKS, XL_XEN_PARTLY, XL_XEN_REFUSED };

struct xl_xen_cmd {
	const char *name;
	enum xl_xen_status status;
	const char *why; /* for partly and refused */
};

extern const struct xl_xen_cmd xl_xen417_cmds[];
extern const int xl_xen417_cmd_count;
/* Xen 4.17's command of that exact name, or NULL. */
const struct xl_xen_cmd *xl_xen417_cmd(const char *name);

#endif
