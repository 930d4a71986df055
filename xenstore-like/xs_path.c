/*
 * Path, permission-string and error-name handling: everything that turns
 * client-supplied strings into the canonical forms the store works on, and
 * back.  Xen's rules: absolute paths start with '/', relative ones resolve
 * under /local/domain/<domid>, no "//" and no trailing '/', characters are
 * alphanumerics and "-/_@", special paths start with '@'.  The part below a
 * domain's home may be XENSTORE_REL_PATH_MAX long, a whole path
 * XENSTORE_ABS_PATH_MAX.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_store.h"

int xs_buf_put(struct xs_buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + len)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

void xs_buf_consume(struct xs_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		/* Give back big buffers once drained: a burst must not pin memory. */
		if (b->cap > 65536) {
			free(b->p);
			b->p = NULL;
			b->cap = 0;
		}
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

void xs_buf_free(struct xs_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static const struct xs_wire_error xs_errors[] = {
#define XS_ERR_ENTRY(name, num) {num, #name},
	XS_WIRE_ERRORS(XS_ERR_ENTRY)
#undef XS_ERR_ENTRY
};

/* The wire name of an errno; anything unlisted is reported as EINVAL. */
const char *xs_errno_name(int err)
{
	size_t i;

	for (i = 0; i < sizeof(xs_errors) / sizeof(xs_errors[0]); i++)
		if (xs_errors[i].errnum == err)
			return xs_errors[i].name;
	return "EINVAL";
}

int xs_errno_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(xs_errors) / sizeof(xs_errors[0]); i++)
		if (!strcmp(xs_errors[i].name, name))
			return xs_errors[i].errnum;
	return EINVAL;
}

bool xs_path_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-/_@", *s))
			return false;
	return true;
}

bool xs_path_is_special(const char *path)
{
	return path[0] == '@';
}

/*
 * Resolve a client path to canonical absolute form in out.  Returns 0 or
 * -EINVAL: like Xen, every bad path (form, characters, length) is EINVAL.
 */
int xs_path_canonical(const char *in, unsigned domid, char *out, size_t size)
{
	size_t len = strlen(in), base = 0, rel;
	unsigned d;
	int off = 0;

	if (!len || !xs_path_chars_ok(in))
		return -EINVAL;
	if (in[0] == '@') {
		/* Special watch paths: "@name" or "@name/<more>". */
		if (len > XENSTORE_ABS_PATH_MAX || strstr(in, "//") || in[len - 1] == '/')
			return -EINVAL;
		if (len + 1 > size)
			return -EINVAL;
		memcpy(out, in, len + 1);
		return 0;
	}
	if (in[0] != '/') {
		base = snprintf(out, size, "/local/domain/%u/", domid);
		if (base >= size)
			return -EINVAL;
		if (len > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
	}
	if (base + len + 1 > size || base + len > XENSTORE_ABS_PATH_MAX)
		return -EINVAL;
	memcpy(out + base, in, len + 1);
	len += base;
	if (strstr(out, "//"))
		return -EINVAL;
	if (len > 1 && out[len - 1] == '/')
		return -EINVAL;
	/* The part below a domain's home counts against the relative limit. */
	if (sscanf(out, "/local/domain/%5u/%n", &d, &off) == 1 && off > 0) {
		rel = len - (size_t)off;
		if (rel > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
	}
	return 0;
}

/* True if child is parent or lies below it. */
bool xs_path_is_child(const char *parent, const char *child)
{
	size_t pl = strlen(parent);

	if (pl == 1 && parent[0] == '/')
		return child[0] == '/';
	return !strncmp(parent, child, pl) && (child[pl] == '/' || child[pl] == 0);
}

int xs_path_parent(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t len;

	if (!slash || (slash == path && !path[1]))
		return -EINVAL; /* "/" has no parent */
	len = slash == path ? 1 : (size_t)(slash - path);
	if (len + 1 > size)
		return -EINVAL;
	memcpy(out, path, len);
	out[len] = 0;
	return 0;
}

/* The form a domain's relative watch sees: path below its home, or path. */
const char *xs_path_relative(const char *path, unsigned domid)
{
	char home[32];
	size_t hl = (size_t)snprintf(home, sizeof(home), "/local/domain/%u", domid);

	if (!strncmp(path, home, hl) && path[hl] == '/')
		return path + hl + 1;
	return path;
}

/* Parse "<letter><domid>": r, w, b, n. */
int xs_perm_parse(const char *s, struct xs_perm *out)
{
	char *end;
	unsigned long d;

	switch (s[0]) {
	case 'n':
		out->perm = XS_PERM_NONE;
		break;
	case 'r':
		out->perm = XS_PERM_READ;
		break;
	case 'w':
		out->perm = XS_PERM_WRITE;
		break;
	case 'b':
		out->perm = XS_PERM_BOTH;
		break;
	default:
		return -EINVAL;
	}
	if (!isdigit((unsigned char)s[1]))
		return -EINVAL;
	errno = 0;
	d = strtoul(s + 1, &end, 10);
	if (errno || *end || d > XS_DOMID_MAX)
		return -EINVAL;
	out->domid = (uint16_t)d;
	out->pad = 0;
	return 0;
}

int xs_perm_format(const struct xs_perm *p, char *buf, size_t size)
{
	static const char letters[] = "nrwb";
	int n = snprintf(buf, size, "%c%u", letters[p->perm & 3], p->domid);

	return (n < 0 || (size_t)n >= size) ? -EINVAL : n;
}
