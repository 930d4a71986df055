/* The xl.cfg key table (keys.c): which keys Keel implements, accepts, or does not know. */
#ifndef KEEL_XLCFG_KEYS_H
#define KEEL_XLCFG_KEYS_H

#include <stdbool.h>

enum xlcfg_key_support {
	XLCFG_KEY_UNKNOWN,     /* xl does not know it either: warn */
	XLCFG_KEY_SUPPORTED,   /* read by the domain builder */
	XLCFG_KEY_UNSUPPORTED, /* an xl key Keel does not implement: accepted, reported */
};

enum xlcfg_key_support xlcfg_key_support(const char *name);

#endif
