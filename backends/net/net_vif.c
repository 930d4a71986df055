/*
 * One connected vif: its two rings (mapped from the frontend's grants), its
 * event channel(s) (one shared, or split tx/rx), the port, and the thread
 * that serves them.  The thread sleeps in poll(2) on the event channels,
 * the port (only while no received frame is waiting for rx pages), a
 * timerfd for the credit window of `rate=` and a stop eventfd.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "netback.h"

struct net_vif {
	struct net_queue q;
	uint32_t lport_tx, lport_rx;
	bool bound_tx, bound_rx, split;
	int ev_tx, ev_rx, stop_fd, timer_fd;
	pthread_t thread;
	bool running;
};

uint64_t net_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void net_vif_arm_timer(struct net_vif *vif, uint64_t us)
{
	struct itimerspec its = {0};

	if (us == 0)
		us = 1;
	its.it_value.tv_sec = (time_t)(us / 1000000u);
	its.it_value.tv_nsec = (long)(us % 1000000u) * 1000;
	timerfd_settime(vif->timer_fd, 0, &its, NULL);
}

static void *net_vif_thread(void *arg)
{
	struct net_vif *vif = arg;
	struct net_queue *q = &vif->q;

	for (;;) {
		struct pollfd p[5];
		unsigned n = 0, i_port, i_timer;
		bool notify = false;
		uint64_t v;

		if (!__atomic_load_n(&q->broken, __ATOMIC_ACQUIRE)) {
			notify |= net_tx_process(q, net_now_us());
			if (q->credit_wait)
				net_vif_arm_timer(vif, net_tx_credit_wait_us(q, net_now_us()));
		}
		if (!__atomic_load_n(&q->broken, __ATOMIC_ACQUIRE))
			notify |= net_rx_process(q);
		if (notify && !__atomic_load_n(&q->broken, __ATOMIC_ACQUIRE)) {
			bk_evtchn_notify(q->tp, vif->lport_tx);
			if (vif->split)
				bk_evtchn_notify(q->tp, vif->lport_rx);
		}
		p[n++] = (struct pollfd){vif->stop_fd, POLLIN, 0};
		p[n++] = (struct pollfd){vif->ev_tx, POLLIN, 0};
		if (vif->split)
			p[n++] = (struct pollfd){vif->ev_rx, POLLIN, 0};
		i_port = n;
		/* A frame waiting for rx pages: leave the port alone (back-pressure). */
		p[n++] = (struct pollfd){q->rx_len || q->broken ? -1 : q->port_fd, POLLIN, 0};
		i_timer = n;
		p[n++] = (struct pollfd){vif->timer_fd, POLLIN, 0};
		if (poll(p, n, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents)
			bk_evtchn_consume(q->tp, vif->lport_tx);
		if (vif->split && p[2].revents)
			bk_evtchn_consume(q->tp, vif->lport_rx);
		if (p[i_timer].revents && read(vif->timer_fd, &v, sizeof(v)) < 0)
			v = 0;
		(void)i_port;
	}
	return NULL;
}

static int net_vif_map(struct net_vif *vif, grant_ref_t ref, void **ring)
{
	return bk_gnt_map(vif->q.tp, vif->q.domid, &ref, 1, 0, ring, NULL);
}

int net_vif_connect(const struct net_vif_params *p, struct net_vif **out)
{
	struct net_vif *vif = calloc(1, sizeof(*vif));
	struct net_queue *q;
	int err;

	if (!vif)
		return -ENOMEM;
	q = &vif->q;
	vif->ev_tx = vif->ev_rx = vif->stop_fd = vif->timer_fd = -1;
	q->tp = p->tp;
	q->domid = p->domid;
	q->devid = p->devid;
	q->port_fd = p->port_fd;
	q->frontend_sg = p->frontend_sg;
	q->frontend_csum = p->frontend_csum;
	q->credit_bytes = p->credit_bytes;
	q->credit_usec = p->credit_usec ? p->credit_usec : 50000;
	q->remaining_credit = q->credit_bytes;
	q->credit_window_start = net_now_us();
	q->on_fatal = p->on_fatal;
	q->fatal_arg = p->fatal_arg;
	q->rx_buf = malloc(NET_RX_BUF);
	q->rx_batch = net_rx_batch_alloc();
	q->tx_buf = malloc(NET_TX_BUF);
	q->tx_batch = net_tx_batch_alloc();
	err = -ENOMEM;
	if (!q->rx_buf || !q->rx_batch || !q->tx_buf || !q->tx_batch)
		goto fail;
	if ((err = net_vif_map(vif, p->tx_ring_ref, &q->tx_ring))) {
		q->tx_ring = NULL;
		goto fail;
	}
	if ((err = net_vif_map(vif, p->rx_ring_ref, &q->rx_ring))) {
		q->rx_ring = NULL;
		goto fail;
	}
	/* Attach where responses stopped, so a restarted backend carries on. */
	netif_tx_back_attach(&q->tx, q->tx_ring,
			     ring_load(&((struct netif_tx_sring *)q->tx_ring)->rsp_prod),
			     BK_PAGE_SIZE);
	netif_rx_back_attach(&q->rx, q->rx_ring,
			     ring_load(&((struct netif_rx_sring *)q->rx_ring)->rsp_prod),
			     BK_PAGE_SIZE);
	if ((err = bk_evtchn_bind(q->tp, q->domid, p->evtchn_tx, &vif->lport_tx)))
		goto fail;
	vif->bound_tx = true;
	vif->split = p->evtchn_rx != p->evtchn_tx;
	if (vif->split) {
		if ((err = bk_evtchn_bind(q->tp, q->domid, p->evtchn_rx, &vif->lport_rx)))
			goto fail;
		vif->bound_rx = true;
		vif->ev_rx = bk_evtchn_fd(q->tp, vif->lport_rx);
	}
	vif->ev_tx = bk_evtchn_fd(q->tp, vif->lport_tx);
	vif->stop_fd = eventfd(0, EFD_CLOEXEC);
	vif->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (vif->ev_tx < 0 || (vif->split && vif->ev_rx < 0) || vif->stop_fd < 0 ||
	    vif->timer_fd < 0) {
		err = -EIO;
		goto fail;
	}
	if ((err = -pthread_create(&vif->thread, NULL, net_vif_thread, vif)))
		goto fail;
	vif->running = true;
	*out = vif;
	return 0;
fail:
	net_vif_disconnect(vif);
	return err;
}

void net_vif_disconnect(struct net_vif *vif)
{
	uint64_t one = 1;

	if (!vif)
		return;
	if (vif->running) {
		const struct net_stats *s = &vif->q.stats;
		char counts[160];

		if (write(vif->stop_fd, &one, sizeof(one)) != sizeof(one))
			bk_log("vif %u: cannot stop its thread", vif->q.domid);
		pthread_join(vif->thread, NULL);
		/* What was lost over the connection, said once as it ends. */
		if (s->tx_errors || s->rx_dropped) {
			net_stats_format(&vif->q, counts, sizeof(counts));
			bk_log("vif%u.%u: disconnected; %s", vif->q.domid, vif->q.devid, counts);
		}
	}
	if (vif->stop_fd >= 0)
		close(vif->stop_fd);
	if (vif->timer_fd >= 0)
		close(vif->timer_fd);
	if (vif->bound_tx)
		bk_evtchn_unbind(vif->q.tp, vif->lport_tx);
	if (vif->bound_rx)
		bk_evtchn_unbind(vif->q.tp, vif->lport_rx);
	if (vif->q.tx_ring)
		bk_gnt_unmap(vif->q.tp, vif->q.tx_ring, 1);
	if (vif->q.rx_ring)
		bk_gnt_unmap(vif->q.tp, vif->q.rx_ring, 1);
	free(vif->q.rx_buf);
	free(vif->q.rx_batch);
	free(vif->q.tx_buf);
	free(vif->q.tx_batch);
	free(vif);
}

/* One ring's shared indices and the backend's private ones. */
#define NET_RING_FMT "req_prod %u req_cons %u req_event %u rsp_prod %u/%u rsp_event %u"
#define NET_RING_ARGS(r)                                                                   \
	ring_load(&(r).sring->req_prod), __atomic_load_n(&(r).req_cons, __ATOMIC_RELAXED), \
		ring_load(&(r).sring->req_event), ring_load(&(r).sring->rsp_prod),         \
		__atomic_load_n(&(r).rsp_prod_pvt, __ATOMIC_RELAXED),                      \
		ring_load(&(r).sring->rsp_event)

/*
 * Where the vif stands, for SIGUSR1 (a stalled transfer: whose move is it?).
 * Read from the bus thread while the vif's thread runs: each figure is a
 * snapshot, not a consistent set.
 */
void net_vif_dump(struct net_vif *vif)
{
	struct net_queue *q = &vif->q;
	char counts[160];

	net_stats_format(q, counts, sizeof(counts));
	bk_log("vif%u.%u: tx " NET_RING_FMT "; rx " NET_RING_FMT
	       "; rx frame waiting %zu bytes; credit_wait %d; broken %d; %s",
	       q->domid, q->devid, NET_RING_ARGS(q->tx), NET_RING_ARGS(q->rx),
	       __atomic_load_n(&q->rx_len, __ATOMIC_RELAXED),
	       (int)__atomic_load_n(&q->credit_wait, __ATOMIC_RELAXED),
	       __atomic_load_n(&q->broken, __ATOMIC_RELAXED), counts);
}

bool net_vif_broken(struct net_vif *vif)
{
	return __atomic_load_n(&vif->q.broken, __ATOMIC_ACQUIRE);
}

void net_vif_stats(struct net_vif *vif, struct net_stats *out)
{
	*out = vif->q.stats;
}
