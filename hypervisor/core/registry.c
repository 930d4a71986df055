/*
 * The domain table and the registry of per-domain subsystems.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "domain.h"

static pthread_mutex_t domain_table_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct domain *domain_table[DOMAIN_TABLE_SIZE];
static int domain_next_domid = 1;

void domain_table_lock(void)
{
	pthread_mutex_lock(&domain_table_mutex);
}

void domain_table_unlock(void)
{
	pthread_mutex_unlock(&domain_table_mutex);
}

struct domain *domain_lookup(int domid)
{
	for (int i = 0; i < DOMAIN_TABLE_SIZE; i++) {
		struct domain *d = __atomic_load_n(&domain_table[i], __ATOMIC_ACQUIRE);

		if (d && d->domid == domid && !d->dying)
			return d;
	}
	return NULL;
}

struct domain *domain_table_at(int slot)
{
	return slot >= 0 && slot < DOMAIN_TABLE_SIZE
		       ? __atomic_load_n(&domain_table[slot], __ATOMIC_ACQUIRE)
		       : NULL;
}

/* Xen's DOMID_FIRST_RESERVED: ids from here on are DOMID_SELF & co. */
#define DOMAIN_DOMID_END 0x7FF0

static int domain_domid_used(int domid)
{
	for (int i = 0; i < DOMAIN_TABLE_SIZE; i++)
		if (domain_table[i] && domain_table[i]->domid == domid)
			return 1;
	return 0;
}

/* Enter d under the next domid.  Domids are not reused until they wrap,
 * as Xen's: past the last ordinary id (0x7FEF) the count starts again at
 * 1, skipping ids still in use.  They used to grow without end, into
 * DOMID_SELF and past 16 bits (found by the fuzz targets, which make a
 * domain or two per input). */
int domain_table_add(struct domain *d)
{
	int r = -ENOSPC;

	domain_table_lock();
	for (int i = 0; i < DOMAIN_TABLE_SIZE; i++)
		if (!domain_table[i]) {
			while (domain_domid_used(domain_next_domid))
				domain_next_domid = domain_next_domid % (DOMAIN_DOMID_END - 1) + 1;
			d->slot = i;
			d->domid = domain_next_domid;
			domain_next_domid = domain_next_domid % (DOMAIN_DOMID_END - 1) + 1;
			__atomic_store_n(&domain_table[i], d, __ATOMIC_RELEASE);
			r = 0;
			break;
		}
	domain_table_unlock();
	return r;
}

void domain_table_remove(struct domain *d)
{
	domain_table_lock();
	if (d->slot >= 0 && d->slot < DOMAIN_TABLE_SIZE && domain_table[d->slot] == d)
		__atomic_store_n(&domain_table[d->slot], NULL, __ATOMIC_RELEASE);
	domain_table_unlock();
}

/* Subsystems, sorted by order as they register (at start-up). */
#define DOMAIN_MAX_SUBSYS 16
static const struct domain_subsys *domain_subsys[DOMAIN_MAX_SUBSYS];
static int domain_nsubsys;

void domain_subsys_register(const struct domain_subsys *s)
{
	int i;

	if (domain_nsubsys == DOMAIN_MAX_SUBSYS)
		abort(); /* a build with more subsystems than the table holds */
	for (i = domain_nsubsys; i > 0 && domain_subsys[i - 1]->order > s->order; i--)
		domain_subsys[i] = domain_subsys[i - 1];
	domain_subsys[i] = s;
	domain_nsubsys++;
}

int domain_subsys_init(struct domain *d, int *done)
{
	for (*done = 0; *done < domain_nsubsys; (*done)++) {
		const struct domain_subsys *s = domain_subsys[*done];
		int r = s->init ? s->init(d) : 0;

		if (r < 0) {
			hvlog("d%d: %s: cannot set up (%d)", d->domid, s->name, r);
			return r;
		}
	}
	return 0;
}

void domain_subsys_destroy(struct domain *d, int done)
{
	for (int i = done - 1; i >= 0; i--)
		if (domain_subsys[i]->destroy)
			domain_subsys[i]->destroy(d);
}

int domain_subsys_save(struct domain *d, struct srb *out)
{
	for (int i = 0; i < domain_nsubsys; i++)
		if (domain_subsys[i]->save) {
			int r = domain_subsys[i]->save(d, out);

			if (r < 0)
				return r;
		}
	return 0;
}

int domain_subsys_check(const struct saverec *recs, unsigned n, char *err, size_t errlen)
{
	for (int i = 0; i < domain_nsubsys; i++)
		if (domain_subsys[i]->check) {
			int r = domain_subsys[i]->check(recs, n, err, errlen);

			if (r < 0)
				return r;
		}
	return 0;
}

void domain_subsys_restore(struct domain *d, const struct saverec *recs, unsigned n)
{
	for (int i = 0; i < domain_nsubsys; i++)
		if (domain_subsys[i]->restore)
			domain_subsys[i]->restore(d, recs, n);
}
