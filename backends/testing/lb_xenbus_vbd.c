/*
 * keel-backend-loopback xenbus-vbd: blkback's "vbd" driver served from a
 * real store, with the frontend of domain --domid played by a thread over
 * the LOOPBACK TEST TRANSPORT.  The toolstack's part (backend and frontend
 * directories, params, mode) is written by the caller beforehand.  The
 * frontend waits for InitWait, publishes two ring pages, its event channel
 * and feature-persistent, goes Initialised, writes a pattern once the
 * backend is Connected, reads it back, flushes, then closes (Closing,
 * Closed).  Every backend state seen is printed in order; the pattern is
 * also written to --pattern-out so the caller can compare the image.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../dom0/libkeelstore/keelstore.h"
#include "../block/blkfront_loop.h"
#include "../common/bk_loop.h"
#include "../common/xenbus_back.h"
#include "lb.h"

#define LB_VBD_SEGS 8u

volatile int lb_xb_stop;

void *lb_xb_bus_thread(void *arg)
{
	int err = xb_bus_run(arg, &lb_xb_stop, 50);

	if (err)
		fprintf(stderr, "keel-backend-loopback: bus: %s\n", strerror(-err));
	return NULL;
}

/* Wait (watching the backend's state) until it reads @want; prints every change. */
int lb_xb_wait(struct lb_xb *v, int want)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/state", v->be);
	for (int i = 0; i < 100; i++) {
		char *val = NULL, *p = NULL, *t = NULL;
		unsigned len;
		int st = -1;

		if (ks_read(v->ks, KS_TX_NONE, path, &val, &len) == 0)
			st = atoi(val);
		free(val);
		if (st != v->last_state && st >= 0) {
			printf("%s: backend state %d (%s)\n", v->who, st, xenbus_state_name(st));
			fflush(stdout);
			v->last_state = st;
		}
		if (st == want)
			return 0;
		if (ks_read_watch(v->ks, 100, &p, &t) == 0) {
			free(p);
			free(t);
		}
	}
	fprintf(stderr, "%s: backend never reached %s\n", v->who, xenbus_state_name(want));
	return -ETIMEDOUT;
}

int lb_xb_fe_write(struct lb_xb *v, const char *key, unsigned val)
{
	char path[192], s[16];

	snprintf(path, sizeof(path), "%s/%s", v->fe, key);
	snprintf(s, sizeof(s), "%u", val);
	return ks_write_str(v->ks, KS_TX_NONE, path, s);
}

/* The frontend's part of the handshake: ring details, then Initialised. */
static int lb_vbd_publish(struct lb_xb *v, const struct blkfront_loop *bf)
{
	int err = 0;

	for (unsigned i = 0; i < 2 && !err; i++) {
		char key[32];

		snprintf(key, sizeof(key), "ring-ref%u", i);
		err = lb_xb_fe_write(v, key, bf->q[0].ring_refs[i]);
	}
	if (!err)
		err = lb_xb_fe_write(v, "ring-page-order", 1);
	if (!err)
		err = lb_xb_fe_write(v, "event-channel", bf->q[0].port);
	if (!err)
		err = lb_xb_fe_write(v, "feature-persistent", 1);
	if (!err) {
		char path[192];

		snprintf(path, sizeof(path), "%s/protocol", v->fe);
		err = ks_write_str(v->ks, KS_TX_NONE, path, "x86_64-abi");
	}
	return err ? err : lb_xb_fe_write(v, "state", XenbusStateInitialised);
}

/* Write the region after the pattern, discard it, read back zeros. */
static int lb_vbd_discard(struct blkfront_loop *bf, uint64_t sector, struct blkfront_buf *b)
{
	struct blkif_request req = {0};
	struct blkif_request_discard *d = (struct blkif_request_discard *)&req;

	for (unsigned i = 0; i < LB_VBD_SEGS; i++)
		memset(b[i].data, 0xa5, 4096);
	if (blkfront_loop_rw(bf, 0, true, sector, b, LB_VBD_SEGS) != BLKIF_RSP_OKAY)
		return -EIO;
	d->operation = BLKIF_OP_DISCARD;
	d->id = 2;
	d->sector_number = sector;
	d->nr_sectors = LB_VBD_SEGS * 8;
	if (blkfront_loop_do(bf, 0, &req) != BLKIF_RSP_OKAY)
		return -EIO;
	if (blkfront_loop_rw(bf, 0, false, sector, b, LB_VBD_SEGS) != BLKIF_RSP_OKAY)
		return -EIO;
	for (unsigned i = 0; i < LB_VBD_SEGS; i++)
		for (unsigned j = 0; j < 4096; j++)
			if (b[i].data[j])
				return -EILSEQ;
	printf("xenbus-vbd: discarded %u bytes at sector %llu, read back zeros\n",
	       LB_VBD_SEGS * 4096, (unsigned long long)sector);
	return 0;
}

/* Pattern out, read back, flush; the pattern also to @out for the caller. */
static int lb_vbd_io(struct blkfront_loop *bf, uint64_t sector, const char *out)
{
	struct blkfront_buf b[LB_VBD_SEGS];
	struct blkif_request flush = {.operation = BLKIF_OP_FLUSH_DISKCACHE, .id = 1};
	uint8_t *want = malloc(LB_VBD_SEGS * 4096);
	int err = 0, fd;

	if (!want)
		return -ENOMEM;
	for (unsigned i = 0; i < LB_VBD_SEGS && !err; i++) {
		err = blkfront_loop_buf(bf, false, &b[i]);
		for (unsigned j = 0; !err && j < 4096; j++)
			b[i].data[j] = (uint8_t)(i * 37 + j * 11 + (j >> 8));
		if (!err)
			memcpy(want + i * 4096, b[i].data, 4096);
	}
	if (!err && blkfront_loop_rw(bf, 0, true, sector, b, LB_VBD_SEGS) != BLKIF_RSP_OKAY)
		err = -EIO;
	for (unsigned i = 0; i < LB_VBD_SEGS && !err; i++)
		memset(b[i].data, 0, 4096);
	if (!err && blkfront_loop_rw(bf, 0, false, sector, b, LB_VBD_SEGS) != BLKIF_RSP_OKAY)
		err = -EIO;
	for (unsigned i = 0; i < LB_VBD_SEGS && !err; i++)
		if (memcmp(b[i].data, want + i * 4096, 4096))
			err = -EILSEQ;
	if (!err && blkfront_loop_do(bf, 0, &flush) != BLKIF_RSP_OKAY)
		err = -EIO;
	if (!err && out) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, want, LB_VBD_SEGS * 4096) != LB_VBD_SEGS * 4096)
			err = -EIO;
		if (fd >= 0)
			close(fd);
	}
	if (!err)
		printf("xenbus-vbd: wrote, read back and flushed %u bytes at sector %llu\n",
		       LB_VBD_SEGS * 4096, (unsigned long long)sector);
	if (!err)
		err = lb_vbd_discard(bf, sector + LB_VBD_SEGS * 8, b);
	free(want);
	return err;
}

int lb_cmd_xenbus_vbd(int argc, char **argv)
{
	const char *store = lb_opt(argc, argv, "--store", NULL);
	unsigned domid = (unsigned)atoi(lb_opt(argc, argv, "--domid", "3"));
	unsigned devid = (unsigned)atoi(lb_opt(argc, argv, "--devid", "51712"));
	uint64_t sector = strtoull(lb_opt(argc, argv, "--sector", "2048"), NULL, 10);
	struct lb_xb v = {.last_state = -1, .who = "xenbus-vbd"};
	struct blkfront_loop bf;
	struct bk_transport tp;
	struct bk_loop *loop;
	struct xb_bus *bus;
	char path[192];
	pthread_t th;
	int err;

	printf("xenbus-vbd: LOOPBACK TEST TRANSPORT frontend (not a guest), real store\n");
	snprintf(v.be, sizeof(v.be), "/local/domain/0/backend/vbd/%u/%u", domid, devid);
	snprintf(v.fe, sizeof(v.fe), "/local/domain/%u/device/vbd/%u", domid, devid);
	if ((err = bk_loop_create(0, &loop)) || (err = bk_loop_add_domain(loop, domid, 256, 256)) ||
	    (err = ks_open(store, &v.ks))) {
		fprintf(stderr, "xenbus-vbd: setup: %s\n", strerror(-err));
		return 1;
	}
	bk_loop_transport(loop, &tp);
	if ((err = xb_bus_open(store, &blk_xenbus_driver, &tp, &bus))) {
		fprintf(stderr, "xenbus-vbd: store: %s\n", strerror(-err));
		return 1;
	}
	pthread_create(&th, NULL, lb_xb_bus_thread, bus);
	snprintf(path, sizeof(path), "%s/state", v.be);
	ks_watch(v.ks, path, "be-state");
	err = lb_xb_wait(&v, XenbusStateInitWait);
	if (!err)
		err = blkfront_loop_init(&bf, loop, (uint16_t)domid, 0, 1, 1);
	if (!err)
		err = lb_vbd_publish(&v, &bf);
	if (!err)
		err = lb_xb_wait(&v, XenbusStateConnected);
	if (!err)
		err = lb_vbd_io(&bf, sector, lb_opt(argc, argv, "--pattern-out", NULL));
	if (!err)
		err = lb_xb_fe_write(&v, "state", XenbusStateClosing);
	if (!err)
		err = lb_xb_wait(&v, XenbusStateClosing);
	if (!err)
		err = lb_xb_fe_write(&v, "state", XenbusStateClosed);
	if (!err)
		err = lb_xb_wait(&v, XenbusStateClosed);
	if (!err && bk_loop_mapped_count(loop, (uint16_t)domid))
		err = -EBUSY; /* a grant still mapped after Closed */
	lb_xb_stop = 1;
	pthread_join(th, NULL);
	xb_bus_close(bus);
	ks_close(v.ks);
	bk_loop_destroy(loop);
	if (err) {
		fprintf(stderr, "xenbus-vbd: %s\n", strerror(-err));
		return 1;
	}
	printf("xenbus-vbd: done\n");
	return 0;
}
