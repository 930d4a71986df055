/*
 * keel-evtchn-pong DOMID ROUNDS [SECONDS]: the dom0 half of the evt-dom0pp
 * ping-pong, on libkeelevtchn only: bind the domain's store port, then
 * answer every event (poll the handle's fd, pending, unmask, notify)
 * until ROUNDS + 1 were answered and 2 s pass quietly.  Exit 0 then.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../libkeelctl/keelctl.h"
#include "keelevtchn.h"

int main(int argc, char **argv)
{
	struct keelctl_dominfo info;
	struct keelevtchn *xe;
	struct keelctl *ctl;
	struct pollfd pfd;
	uint32_t domid;
	int rounds, secs, port, r, n = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: keel-evtchn-pong DOMID ROUNDS [SECONDS]\n");
		return 2;
	}
	domid = strtoul(argv[1], NULL, 0);
	rounds = atoi(argv[2]);
	secs = argc > 3 ? atoi(argv[3]) : 60;
	if ((r = keelctl_open(NULL, &ctl)) < 0 ||
	    (r = keelctl_domain_getinfo(ctl, domid, &info)) < 0)
		goto fail;
	keelctl_close(ctl);
	if ((r = keelevtchn_open(NULL, &xe)) < 0)
		goto fail;
	port = keelevtchn_bind_interdomain(xe, domid, info.store_port);
	if ((r = port) < 0)
		goto fail;
	pfd = (struct pollfd){keelevtchn_fd(xe), POLLIN, 0};
	for (;;) {
		/* After ROUNDS + 1 answers, keep answering until 2 s of quiet
		 * (the guest may have retried its first send). */
		if (poll(&pfd, 1, n > rounds ? 2000 : secs * 1000) != 1) {
			if (n > rounds)
				break;
			r = -ETIMEDOUT;
			goto fail;
		}
		if (keelevtchn_pending(xe) != port)
			continue;
		keelevtchn_unmask(xe, port);
		if ((r = keelevtchn_notify(xe, port)) < 0)
			goto fail;
		n++;
	}
	keelevtchn_close(xe);
	printf("answered %d events\n", n);
	return 0;
fail:
	fprintf(stderr, "keel-evtchn-pong: %s (after %d)\n", strerror(-r), n);
	return 1;
}
