/*
 * Domains as the store sees them: which are introduced (INTRODUCE/RELEASE),
 * their store-ring details, SET_TARGET links, per-domain accounting for
 * quotas, and the permission rule every access goes through.  A domain's
 * ring is connected through the pluggable mapper (keeld's job); without one,
 * INTRODUCE records the domain and fires @introduceDomain only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xs_store.h"

#define XS_DOMID_FIRST_RESERVED 0x7ff0u

struct xs_domain *xs_domain_find(struct xs_server *s, unsigned domid)
{
	if (domid >= XS_DOMID_FIRST_RESERVED || !s->domains)
		return NULL;
	return s->domains[domid];
}

struct xs_domain *xs_domain_get(struct xs_server *s, unsigned domid)
{
	struct xs_domain *d;

	if (domid >= XS_DOMID_FIRST_RESERVED)
		return NULL;
	if (!s->domains) {
		s->domains = calloc(XS_DOMID_FIRST_RESERVED, sizeof(*s->domains));
		if (!s->domains)
			return NULL;
	}
	d = s->domains[domid];
	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d)
			return NULL;
		d->domid = domid;
		d->target = -1;
		s->domains[domid] = d;
	}
	return d;
}

void xs_domains_free(struct xs_server *s)
{
	unsigned i;

	if (s->domains)
		for (i = 0; i < XS_DOMID_FIRST_RESERVED; i++)
			free(s->domains[i]);
	free(s->domains);
	s->domains = NULL;
	free(s->node_count);
	s->node_count = NULL;
}

/* Tree hook: keep the count of nodes each domain owns. */
void xs_domain_owner_delta(void *opaque, unsigned domid, int delta)
{
	struct xs_server *s = opaque;

	if (!s->node_count) {
		s->node_count = calloc(XS_DOMID_MAX + 1, sizeof(*s->node_count));
		if (!s->node_count)
			return;
	}
	if (domid <= XS_DOMID_MAX)
		s->node_count[domid] += (uint32_t)delta;
}

unsigned xs_domain_nodes(struct xs_server *s, unsigned domid)
{
	return (s->node_count && domid <= XS_DOMID_MAX) ? s->node_count[domid] : 0;
}

/*
 * What a connection may do to a node: privileged connections everything;
 * the owner (first entry) everything; otherwise the entry naming the domain
 * (or the domain it is a device model for, SET_TARGET), else the owner's
 * entry's letter as the default.
 */
unsigned xs_conn_perm(const struct xs_conn *c, const struct xs_perm *perms, unsigned nperms)
{
	const struct xs_domain *d;
	int target = -1;
	unsigned i, found = 0;
	bool any = false;

	if (c->privileged)
		return XS_PERM_BOTH | XS_PERM_OWNER;
	d = xs_domain_find(c->srv, c->domid);
	if (d)
		target = d->target;
	if (perms[0].domid == c->domid || (target >= 0 && perms[0].domid == (unsigned)target))
		return XS_PERM_BOTH | XS_PERM_OWNER;
	for (i = 1; i < nperms; i++) {
		if (perms[i].domid == c->domid ||
		    (target >= 0 && perms[i].domid == (unsigned)target)) {
			found |= perms[i].perm;
			any = true;
		}
	}
	return any ? found : perms[0].perm;
}

int xs_domain_introduce(struct xs_server *s, unsigned domid, uint64_t mfn, uint32_t evtchn)
{
	struct xs_domain *d;

	if (domid == 0 || domid >= XS_DOMID_FIRST_RESERVED)
		return -EINVAL;
	d = xs_domain_get(s, domid);
	if (!d)
		return -ENOMEM;
	if (d->introduced) {
		/* Re-introduction (resume) may rebind the event channel only. */
		if (d->mfn != mfn)
			return -EEXIST;
		d->evtchn = evtchn;
		d->shutdown = false;
		if (s->journal_on)
			xs_journal_domain(&s->journal, d);
		return 0;
	}
	if (s->mapper.map) {
		void *page;
		int kick, notify, rc;

		rc = s->mapper.map(s->mapper.opaque, domid, mfn, evtchn, &page, &kick, &notify);
		if (rc)
			return rc;
		d->conn = xs_conn_ring_new(s, domid, page, kick, notify);
		if (!d->conn || xs_server_add_conn(s, d->conn)) {
			if (d->conn)
				xs_conn_free(d->conn);
			else
				s->mapper.unmap(s->mapper.opaque, domid, page, kick, notify);
			d->conn = NULL;
			return -ENOMEM;
		}
	}
	d->introduced = true;
	d->shutdown = false;
	d->mfn = mfn;
	d->evtchn = evtchn;
	if (s->journal_on)
		xs_journal_domain(&s->journal, d);
	xs_watch_fire_special(s, "@introduceDomain", domid);
	return 0;
}

int xs_domain_release(struct xs_server *s, unsigned domid)
{
	struct xs_domain *d = xs_domain_find(s, domid);

	if (!d || !d->introduced)
		return -ENOENT;
	if (d->conn) {
		xs_server_close_conn(s, d->conn);
		d->conn = NULL;
	}
	d->introduced = false;
	d->shutdown = false;
	d->target = -1;
	d->mfn = 0;
	d->evtchn = 0;
	if (s->journal_on)
		xs_journal_domain(&s->journal, d);
	xs_watch_fire_special(s, "@releaseDomain", domid);
	return 0;
}
