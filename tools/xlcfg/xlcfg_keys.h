/* The xl.cfg key table (keys.c): what Keel does with each key xl knows. */
#ifndef KEEL_XLCFG_KEYS_H
#define KEEL_XLCFG_KEYS_H

#include <stdbool.h>

enum xlcfg_key_status {
	XLCFG_KEY_UNKNOWN, /* xl does not know it either: warn */
	XLCFG_KEY_WORKS,   /* read by the domain builder and honoured */
	XLCFG_KEY_PARTLY,  /* honoured within the limits the note names */
	XLCFG_KEY_IGNORED, /* accepted with a warning: harmless to leave out */
	XLCFG_KEY_REFUSED, /* set, it fails the configuration: Keel cannot give the guest this */
};

struct xlcfg_key {
	const char *name;
	enum xlcfg_key_status status;
	bool xen417;	 /* read by Xen 4.17's xl (parse_config_data) */
	const char *why; /* for partly / ignored / refused */
};

/* The whole table, sorted by name. */
const struct xlcfg_key *xlcfg_key_table(int *n);
/* A key's entry, or NULL for a key xl does not know. */
const struct xlcfg_key *xlcfg_key_lookup(const char *name);
/* "works", "partly", "ignored", "refused" (README's words). */
const char *xlcfg_key_status_name(enum xlcfg_key_status s);

#endif
