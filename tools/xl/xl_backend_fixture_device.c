/*
 * PV devices for xl-fixture, the test-double backend: the same layout
 * (xl_device_nodes.c) the keeld backend writes into the store, written
 * instead into a flat text "store" beside the fixture file,
 * $XL_FIXTURE.store, one node a line:
 *
 *   <path> <perms> <value>
 *
 * where perms is "-" for a node that inherits its parent's, else the
 * xenstore permission list as "n5,r0" (owner first).  Tests read that file
 * to check paths, keys, values and owners without a hypervisor.  There is
 * no backend behind it: removal drops the nodes at once (the handshake
 * with a real backend is the keeld backend's, tested under KVM).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl_backend_fixture.h"

#define FXD_MAX_NODES 4096

struct fxd_node {
	char *path, *perms, *value;
};

struct fxd_store {
	char *file;
	struct fxd_node *v;
	int n;
};

static void fxd_free(struct fxd_store *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].perms);
		free(s->v[i].value);
	}
	free(s->v);
	free(s->file);
}

static int fxd_load(void *h, struct fxd_store *s)
{
	char line[4608];
	FILE *f;

	memset(s, 0, sizeof(*s));
	if (asprintf(&s->file, "%s.store", fixture_path(h)) < 0)
		return -ENOMEM;
	s->v = calloc(FXD_MAX_NODES, sizeof(*s->v));
	if (!s->v)
		return -ENOMEM;
	f = fopen(s->file, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (s->n < FXD_MAX_NODES && fgets(line, sizeof(line), f)) {
		char *p = line, *perms, *value;

		line[strcspn(line, "\n")] = 0;
		perms = strchr(p, ' ');
		if (!perms)
			continue;
		*perms++ = 0;
		value = strchr(perms, ' ');
		if (!value)
			continue;
		*value++ = 0;
		s->v[s->n].path = strdup(p);
		s->v[s->n].perms = strdup(perms);
		s->v[s->n].value = strdup(value);
		s->n++;
	}
	fclose(f);
	return 0;
}

static int fxd_save(struct fxd_store *s)
{
	FILE *f = fopen(s->file, "w");

	if (!f)
		return -errno;
	for (int i = 0; i < s->n; i++)
		fprintf(f, "%s %s %s\n", s->v[i].path, s->v[i].perms, s->v[i].value);
	return fclose(f) ? -errno : 0;
}

static int fxd_find(struct fxd_store *s, const char *path)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].path, path))
			return i;
	return -1;
}

/* A node at @path or below it. */
static bool fxd_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == 0 || path[n] == '/');
}

static int fxd_put(struct fxd_store *s, const char *dir, const char *key, const char *perms,
		   const char *value)
{
	char *path;

	if (s->n >= FXD_MAX_NODES)
		return -ENOSPC;
	if (asprintf(&path, "%s%s%s", dir, key ? "/" : "", key ? key : "") < 0)
		return -ENOMEM;
	s->v[s->n] = (struct fxd_node){path, strdup(perms), strdup(value)};
	s->n++;
	return 0;
}

static void fxd_rm(struct fxd_store *s, const char *dir)
{
	int j = 0;

	for (int i = 0; i < s->n; i++) {
		if (fxd_under(s->v[i].path, dir)) {
			free(s->v[i].path);
			free(s->v[i].perms);
			free(s->v[i].value);
		} else {
			s->v[j++] = s->v[i];
		}
	}
	s->n = j;
}

static int fxd_read(void *ctx, const char *path, char **value)
{
	struct fxd_store *s = ctx;
	int i = fxd_find(s, path);

	if (i < 0)
		return -ENOENT;
	*value = strdup(s->v[i].value);
	return *value ? 0 : -ENOMEM;
}

/* The immediate children of @path, in one allocation as ks_directory. */
static int fxd_directory(void *ctx, const char *path, char ***names, unsigned *n)
{
	struct fxd_store *s = ctx;
	size_t plen = strlen(path), bytes = 0;
	unsigned count = 0;
	char **v, *p;

	for (int i = 0; i < s->n; i++)
		if (fxd_under(s->v[i].path, path) && s->v[i].path[plen] == '/')
			bytes += strlen(s->v[i].path) + 1, count++;
	if (!count && fxd_find(s, path) < 0)
		return -ENOENT;
	v = calloc(1, (count + 1) * sizeof(char *) + bytes + 1);
	if (!v)
		return -ENOMEM;
	p = (char *)(v + count + 1);
	count = 0;
	for (int i = 0; i < s->n; i++) {
		const char *rest;
		size_t len;
		bool seen = false;

		if (!fxd_under(s->v[i].path, path) || s->v[i].path[plen] != '/')
			continue;
		rest = s->v[i].path + plen + 1;
		len = strcspn(rest, "/");
		for (unsigned j = 0; j < count && !seen; j++)
			seen = strlen(v[j]) == len && !strncmp(v[j], rest, len);
		if (seen)
			continue;
		memcpy(p, rest, len);
		p[len] = 0;
		v[count++] = p;
		p += len + 1;
	}
	*names = v;
	*n = count;
	return 0;
}

/* libxl__device_generic_add, into the flat store. */
static int fxd_write_layout(struct fxd_store *s, const struct xl_dev_layout *l)
{
	char fe_perm[32], be_perm[32];
	int r;

	if (fxd_find(s, l->libxl_path) >= 0 || fxd_find(s, l->be_path) >= 0 ||
	    fxd_find(s, l->fe_path) >= 0)
		return -EEXIST;
	snprintf(fe_perm, sizeof(fe_perm), "n%u,r%u", l->domid, l->be_domid);
	snprintf(be_perm, sizeof(be_perm), "n%u,r%u", l->be_domid, l->domid);
	r = fxd_put(s, l->fe_path, NULL, fe_perm, "");
	r = r ? r : fxd_put(s, l->fe_path, "backend", "-", l->be_path);
	for (int i = 0; i < l->n_fe && !r; i++)
		r = fxd_put(s, l->fe_path, l->fe[i].key, "-", l->fe[i].value);
	r = r ? r : fxd_put(s, l->be_path, NULL, be_perm, "");
	r = r ? r : fxd_put(s, l->be_path, "frontend", "-", l->fe_path);
	for (int i = 0; i < l->n_be && !r; i++)
		r = fxd_put(s, l->be_path, l->be[i].key, "-", l->be[i].value);
	r = r ? r : fxd_put(s, l->libxl_path, NULL, "n0", "");
	r = r ? r : fxd_put(s, l->libxl_path, "frontend", "-", l->fe_path);
	r = r ? r : fxd_put(s, l->libxl_path, "backend", "-", l->be_path);
	for (int i = 0; i < l->n_be && !r; i++)
		r = fxd_put(s, l->libxl_path, l->be[i].key, "-", l->be[i].value);
	return r;
}

int fxd_device_add(void *h, uint32_t domid, struct xl_dev_spec *dev)
{
	struct xl_dev_reader rd;
	struct xl_dev_layout l;
	struct fxd_store s;
	const char *bename =
		dev->kind == XL_DEV_VBD ? dev->disk->backend_domname : dev->vif->backend_domname;
	uint32_t be = 0;
	int r;

	if (!fixture_domain_exists(h, domid))
		return -ENOENT;
	r = fxd_load(h, &s);
	rd = (struct xl_dev_reader){fxd_read, fxd_directory, &s};
	if (r == 0 && dev->kind == XL_DEV_VIF) {
		if (dev->vif->devid < 0) {
			struct xl_dev_info *info = NULL;
			int n = 0;

			r = xl_dev_list(&rd, domid, XL_DEV_VIF, &info, &n);
			dev->vif->devid = n ? (int)info[n - 1].devid + 1 : 0;
			free(info);
		}
		r = r ? r : xlcfg_vif_set_defaults(dev->vif, XLCFG_TYPE_PV);
	}
	if (r == 0 && bename && fixture_find_name(h, bename, &be) < 0) {
		fprintf(stderr, "xl: backend domain \"%s\" does not exist\n", bename);
		r = -ENOENT;
	}
	if (r == 0)
		r = dev->kind == XL_DEV_VBD ? xl_dev_vbd_layout(domid, be, dev->disk, false, &l)
					    : xl_dev_vif_layout(domid, be, dev->vif, &l);
	if (r == 0) {
		r = fxd_write_layout(&s, &l);
		if (r == -EEXIST)
			fprintf(stderr, "xl: %s %u of domain %u already exists (%s)\n",
				xl_dev_kind_name(l.kind), l.devid, domid, l.be_path);
		xl_dev_layout_clear(&l);
	}
	if (r == 0)
		r = fxd_save(&s);
	fxd_free(&s);
	return r;
}

int fxd_device_remove(void *h, uint32_t domid, enum xl_dev_kind kind, uint32_t devid, bool force)
{
	struct fxd_store s;
	char lx[96];
	int r = fxd_load(h, &s);

	snprintf(lx, sizeof(lx), "/libxl/%u/device/%s/%u", domid, xl_dev_kind_name(kind), devid);
	if (r == 0 && fxd_find(&s, lx) < 0)
		r = -ENOENT;
	if (r == 0) {
		char *fe = NULL, *be = NULL, path[128];

		snprintf(path, sizeof(path), "%s/frontend", lx);
		fxd_read(&s, path, &fe);
		snprintf(path, sizeof(path), "%s/backend", lx);
		fxd_read(&s, path, &be);
		if (fe)
			fxd_rm(&s, fe);
		if (be)
			fxd_rm(&s, be);
		fxd_rm(&s, lx);
		free(fe);
		free(be);
		r = fxd_save(&s);
	}
	fxd_free(&s);
	return r;
}

int fxd_device_list(void *h, uint32_t domid, enum xl_dev_kind kind, struct xl_dev_info **out,
		    int *n)
{
	struct fxd_store s;
	struct xl_dev_reader rd = {fxd_read, fxd_directory, &s};
	int r = fxd_load(h, &s);

	if (r == 0)
		r = xl_dev_list(&rd, domid, kind, out, n);
	fxd_free(&s);
	return r;
}

void fxd_forget_domain(void *h, uint32_t domid)
{
	struct fxd_store s;
	char path[96];

	if (fxd_load(h, &s) == 0) {
		snprintf(path, sizeof(path), "/libxl/%u", domid);
		fxd_rm(&s, path);
		snprintf(path, sizeof(path), "/local/domain/%u", domid);
		fxd_rm(&s, path);
		for (int i = 0; i < s.n; i++) {
			unsigned be, d;
			char kind[8];

			/* every backend directory of that domain, whichever domain serves it */
			if (sscanf(s.v[i].path, "/local/domain/%u/backend/%7[^/]/%u", &be, kind,
				   &d) == 3 &&
			    d == domid) {
				snprintf(path, sizeof(path), "/local/domain/%u/backend/%s/%u", be,
					 kind, d);
				fxd_rm(&s, path);
				i = -1;
			}
		}
		fxd_save(&s);
	}
	fxd_free(&s);
}
