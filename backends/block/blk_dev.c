/*
 * A connected vbd: the set of queues a frontend asked for (multi-queue),
 * started together and stopped together.  Nothing here touches the store;
 * blk_xenbus.c fills blk_dev_params from it, and the tests fill them
 * directly from the loopback test frontend.
 */
#include <errno.h>
#include <stdlib.h>

#include "blkback.h"

struct blk_dev {
	unsigned nr_queues;
	struct blk_queue *queues[BLK_MAX_QUEUES];
};

int blk_dev_connect(const struct blk_dev_params *p, struct blk_dev **out)
{
	struct blk_dev *dev;
	int err = 0;

	if (!p->img || !p->tp || p->nr_queues == 0 || p->nr_queues > BLK_MAX_QUEUES)
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	for (unsigned i = 0; i < p->nr_queues; i++) {
		err = blk_queue_start(dev, p, i, &dev->queues[i]);
		if (err)
			break;
		dev->nr_queues++;
	}
	if (err) {
		blk_dev_disconnect(dev);
		return err;
	}
	*out = dev;
	return 0;
}

void blk_dev_disconnect(struct blk_dev *dev)
{
	if (!dev)
		return;
	for (unsigned i = 0; i < dev->nr_queues; i++)
		blk_queue_stop(dev->queues[i]);
	free(dev);
}

bool blk_dev_broken(struct blk_dev *dev)
{
	for (unsigned i = 0; i < dev->nr_queues; i++)
		if (blk_queue_broken(dev->queues[i]))
			return true;
	return false;
}

void blk_dev_stats(struct blk_dev *dev, struct blk_stats *out)
{
	*out = (struct blk_stats){0};
	for (unsigned i = 0; i < dev->nr_queues; i++)
		blk_queue_stats_add(dev->queues[i], out);
}
