/*
 * keel-evtchn-max DOMID MAX_PORT: set a domain's max_event_channels (the
 * highest port it may allocate) through libkeelevtchn; what xl's
 * max_event_channels= would do.  Exit 0 on success, 1 with the error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keelevtchn.h"

int main(int argc, char **argv)
{
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: keel-evtchn-max DOMID MAX_PORT\n");
		return 2;
	}
	r = keelevtchn_set_max_port(NULL, strtoul(argv[1], NULL, 0), strtoul(argv[2], NULL, 0));
	if (r < 0) {
		fprintf(stderr, "keel-evtchn-max: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
