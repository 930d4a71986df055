/*
 * A private keel-xenstored for unit suites that need a real store: started
 * from $KEEL_BIN (or the runner's own directory) on a socket in a fresh
 * temporary directory, journal off, killed with the runner if it crashes.
 */
#ifndef KEEL_TESTS_UNIT_STORE_H
#define KEEL_TESTS_UNIT_STORE_H

#include <sys/types.h>

struct unit_store {
	char dir[256];
	char sock[300];
	pid_t pid;
};

/* 0 once a client can connect to s->sock, else -errno. */
int unit_store_start(struct unit_store *s);
/* Stop the daemon and remove its directory; 0 or -errno. */
int unit_store_stop(struct unit_store *s);

#endif
