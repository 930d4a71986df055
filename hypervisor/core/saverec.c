/*
 * keeld's save records (see saverec.h): writing and splitting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "saverec.h"

struct saverec_hdr_wire {
	char magic[8];
	uint32_t format;
	uint32_t flags;
};

struct saverec_rec_wire {
	uint32_t type;
	uint16_t version;
	uint16_t flags;
	uint32_t len;
	uint32_t crc;
};

_Static_assert(sizeof(struct saverec_hdr_wire) == 16, "saverec header");
_Static_assert(sizeof(struct saverec_rec_wire) == 16, "saverec record header");

const char *saverec_name(uint32_t type)
{
	static const char *const names[SAVEREC_NTYPES] = {
		"end",	      "domain",	     "page-types",  "released",	  "vcpu-pv",
		"vcpu-kvm",   "shared-info", "gdt",	    "shim-vcpu",  "gnttab",
		"hvm-domain", "hvm-vcpu",    "hvm-irqchip", "hvm-region", "hvm-populated",
		"hvm-frames", "hvm-relocs",
	};

	return type < SAVEREC_NTYPES ? names[type] : "unknown";
}

void srb_bytes(struct srb *b, const void *data, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (data)
		memcpy(b->p + b->len, data, n);
	else
		memset(b->p + b->len, 0, n);
	b->len += n;
}

/* x86 is little-endian: the wire order is the host's. */
void srb_u8(struct srb *b, uint8_t v)
{
	srb_bytes(b, &v, 1);
}
void srb_u16(struct srb *b, uint16_t v)
{
	srb_bytes(b, &v, 2);
}
void srb_u32(struct srb *b, uint32_t v)
{
	srb_bytes(b, &v, 4);
}
void srb_u64(struct srb *b, uint64_t v)
{
	srb_bytes(b, &v, 8);
}

void srb_free(struct srb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void saverec_begin(struct srb *out)
{
	struct saverec_hdr_wire h = {{0}, SAVEREC_FORMAT, 0};

	memcpy(h.magic, SAVEREC_MAGIC, 8);
	srb_bytes(out, &h, sizeof(h));
}

void saverec_put(struct srb *out, uint32_t type, uint16_t version, const struct srb *payload)
{
	struct saverec_rec_wire r = {type, version, 0, 0, 0};
	size_t len = payload ? payload->len : 0;

	if (payload && payload->err) {
		out->err = payload->err;
		return;
	}
	if (len > SAVEREC_MAX_LEN) {
		out->err = -E2BIG;
		return;
	}
	r.len = (uint32_t)len;
	r.crc = (uint32_t)crc32(0L, len ? payload->p : Z_NULL, (uInt)len);
	srb_bytes(out, &r, sizeof(r));
	if (len)
		srb_bytes(out, payload->p, len);
	srb_bytes(out, NULL, (8 - len % 8) % 8);
}

void saverec_end(struct srb *out)
{
	saverec_put(out, SAVEREC_END, 1, NULL);
}

const uint8_t *src_bytes(struct src *c, size_t n)
{
	const uint8_t *p = c->p;

	if (c->bad || n > c->left) {
		c->bad = 1;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

#define SRC_GET(name, type)                                 \
	type name(struct src *c)                            \
	{                                                   \
		type v = 0;                                 \
		const uint8_t *p = src_bytes(c, sizeof(v)); \
                                                            \
		if (p)                                      \
			memcpy(&v, p, sizeof(v));           \
		return v;                                   \
	}
SRC_GET(src_u8, uint8_t)
SRC_GET(src_u16, uint16_t)
SRC_GET(src_u32, uint32_t)
SRC_GET(src_u64, uint64_t)

int saverec_split(const uint8_t *img, size_t len, struct saverec *recs, unsigned max, unsigned *n,
		  char *err, size_t errlen)
{
	struct saverec_hdr_wire h;
	size_t off = sizeof(h);

	*n = 0;
	if (len < sizeof(h)) {
		snprintf(err, errlen, "state truncated (%zu bytes)", len);
		return -EBADMSG;
	}
	memcpy(&h, img, sizeof(h));
	if (memcmp(h.magic, SAVEREC_MAGIC, 8) != 0) {
		snprintf(err, errlen, "not a keeld state (bad magic)");
		return -EPROTO;
	}
	if (h.format != SAVEREC_FORMAT || h.flags != 0) {
		snprintf(err, errlen,
			 "keeld state format %u (flags %#x) not supported (this keeld "
			 "reads format %u)",
			 h.format, h.flags, (unsigned)SAVEREC_FORMAT);
		return -EPROTO;
	}
	for (;;) {
		struct saverec_rec_wire r;
		size_t padded;

		if (len - off < sizeof(r)) {
			snprintf(err, errlen, "state truncated after %u records", *n);
			return -EBADMSG;
		}
		memcpy(&r, img + off, sizeof(r));
		off += sizeof(r);
		padded = (size_t)r.len + (8 - r.len % 8) % 8;
		if (r.len > SAVEREC_MAX_LEN || padded > len - off) {
			snprintf(err, errlen, "record %u (%s): length %u past the end of the state",
				 *n, saverec_name(r.type), r.len);
			return -EBADMSG;
		}
		if ((uint32_t)crc32(0L, r.len ? img + off : Z_NULL, r.len) != r.crc) {
			snprintf(err, errlen, "record %u (%s): checksum mismatch", *n,
				 saverec_name(r.type));
			return -EBADMSG;
		}
		if (r.flags != 0) {
			snprintf(err, errlen, "record %u (%s): unknown flags %#x", *n,
				 saverec_name(r.type), r.flags);
			return -EBADMSG;
		}
		for (size_t i = r.len; i < padded; i++)
			if (img[off + i]) {
				snprintf(err, errlen, "record %u (%s): padding is not zero", *n,
					 saverec_name(r.type));
				return -EBADMSG;
			}
		if (r.type == SAVEREC_END) {
			if (r.len != 0 || r.version != 1 || off + padded != len) {
				snprintf(err, errlen, "data after the end record");
				return -EBADMSG;
			}
			return 0;
		}
		if (*n == max) {
			snprintf(err, errlen, "more than %u records", max);
			return -EBADMSG;
		}
		recs[*n] = (struct saverec){r.type, r.version, r.len, img + off};
		(*n)++;
		off += padded;
	}
}
