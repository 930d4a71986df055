/* Shared between the libvirt XML writer and the reader's files. */
#ifndef KEEL_XLCFG_LIBVIRT_H
#define KEEL_XLCFG_LIBVIRT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <libxml/tree.h>

#include "xlcfg.h"

/* Namespace of Keel's <metadata> element (what libvirt has no place for). */
#define XLCFG_LIBVIRT_NS "https://keel.invalid/xml/xl/1"

/* Reader state: where messages go and the first error seen. */
struct lv_ctx {
	const char *source;
	FILE *report;
	struct xlcfg_domain *dom;
	int err;
};

/* Reader helpers (libvirt_util.c). */
void lv_error(struct lv_ctx *lc, xmlNodePtr n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool lv_is(xmlNodePtr n, const char *name);
char *lv_text(xmlNodePtr n);		       /* trimmed element text, malloc'd */
char *lv_attr(xmlNodePtr n, const char *name); /* malloc'd, or NULL */
int lv_parse_ull(const char *s, unsigned long long max, unsigned long long *out);
/* 0 parsed, 1 absent, -EINVAL reported */
int lv_attr_int(struct lv_ctx *lc, xmlNodePtr n, const char *name, long long max, long long *out);
int lv_memory_kib(struct lv_ctx *lc, xmlNodePtr n, uint64_t *kib);
void lv_replace(char **slot, char *v);
int lv_action(struct lv_ctx *lc, xmlNodePtr n, enum xlcfg_action *out);
int lv_tristate(const char *v, enum xlcfg_tristate *out);

/* Keel's <metadata> extras (libvirt_meta.c), applied after the devices are read. */
void lv_read_metadata(struct lv_ctx *lc, xmlNodePtr md);

#endif
