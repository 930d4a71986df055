/*
 * keeld's internal interfaces shared by its command files.
 */
#ifndef KEEL_HV_KEELD_H
#define KEEL_HV_KEELD_H

#include <stddef.h>

#include "../core/util.h"

int keeld_fail(const char *what, int err);
/* build/bin/keeld -> build/guests/pv-shim */
int keeld_default_shim(char *buf, size_t size);

/* keeld's seccomp allowlist on every thread (keeld_seccomp.c), after
 * start-up; KEEL_SECCOMP=log only logs.  0 or -errno. */
int keeld_seccomp_install(void);

int keeld_cmd_probe(int argc, char **argv);
int keeld_cmd_bare(int argc, char **argv);
int keeld_cmd_run(int argc, char **argv);
int keeld_cmd_daemon(int argc, char **argv);

#endif
