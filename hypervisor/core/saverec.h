/*
 * keeld's save records, in the spirit of Xen's migration stream v2: a
 * header, then records of {type, version, length, CRC-32 of the payload}
 * with the payload padded to 8 bytes, ending with an END record.  Every
 * field is written one by one, little-endian, by the subsystem that owns
 * it (never a struct copied whole), so an image outlives the build of
 * keeld that wrote it; a reader refuses a record version it does not know.
 *
 * Building: srb_* append to a growing buffer.  Reading: src_* take from a
 * bounded cursor and only mark it bad on an overrun, so a parser checks
 * once at the end.
 */
#ifndef KEEL_HV_SAVEREC_H
#define KEEL_HV_SAVEREC_H

#include <stddef.h>
#include <stdint.h>

#define SAVEREC_MAGIC	"KEELDREC"
#define SAVEREC_FORMAT	2 /* format 1 was a struct copy (KEELDST1), never readable */
#define SAVEREC_MAX_LEN (64u << 20)
#define SAVEREC_MAX	64 /* records in one image */

enum saverec_type {
	SAVEREC_END = 0,
	SAVEREC_DOMAIN = 1,	    /* sizes, frames and ports of the whole domain */
	SAVEREC_PAGE_TYPES = 2,	    /* the PV MMU's type and count of every frame */
	SAVEREC_RELEASED = 3,	    /* frames the guest gave back (ballooning) */
	SAVEREC_VCPU_PV = 4,	    /* one per vCPU: Xen's PV vCPU context */
	SAVEREC_VCPU_KVM = 5,	    /* one per vCPU: registers as KVM holds them */
	SAVEREC_SHARED_INFO = 6,    /* the shared_info page */
	SAVEREC_GDT = 7,	    /* the guest's part of the GDT */
	SAVEREC_SHIM_VCPU = 8,	    /* one per vCPU: the shim's ring-0 stack and apply list */
	SAVEREC_GNTTAB = 9,	    /* grant-table version, frames and entries */
	SAVEREC_HVM_DOMAIN = 10,    /* HVM: sizes, ports, parameters, keeld's platform */
	SAVEREC_HVM_VCPU = 11,	    /* one per vCPU: LAPIC, debug registers, mp_state */
	SAVEREC_HVM_IRQCHIP = 12,   /* KVM's PICs, IOAPIC and PIT */
	SAVEREC_HVM_REGION = 13,    /* keeld's pages below the special region's end */
	SAVEREC_HVM_POPULATED = 14, /* which frames past RAM are populated */
	SAVEREC_HVM_FRAMES = 15,    /* up to 1024 of them: frame numbers, contents */
	SAVEREC_HVM_RELOCS = 16,    /* populated frames the device model moved elsewhere */
	SAVEREC_NTYPES
};

const char *saverec_name(uint32_t type);

/* A growing buffer (errors stick: check srb.err once at the end). */
struct srb {
	uint8_t *p;
	size_t len, cap;
	int err;
};
void srb_bytes(struct srb *b, const void *data, size_t n);
void srb_u8(struct srb *b, uint8_t v);
void srb_u16(struct srb *b, uint16_t v);
void srb_u32(struct srb *b, uint32_t v);
void srb_u64(struct srb *b, uint64_t v);
void srb_free(struct srb *b);

/* Image header, then records. */
void saverec_begin(struct srb *out);
void saverec_put(struct srb *out, uint32_t type, uint16_t version, const struct srb *payload);
void saverec_end(struct srb *out);

/* A bounded read cursor. */
struct src {
	const uint8_t *p;
	size_t left;
	int bad;
};
const uint8_t *src_bytes(struct src *c, size_t n);
uint8_t src_u8(struct src *c);
uint16_t src_u16(struct src *c);
uint32_t src_u32(struct src *c);
uint64_t src_u64(struct src *c);

struct saverec {
	uint32_t type;
	uint16_t version;
	uint32_t len;
	const uint8_t *data;
};

/* Split an image into its records, checking the header, each record's
 * length and CRC, and the END record with nothing after it.  0, or
 * -EBADMSG (damaged or truncated) / -EPROTO (not this format) with the
 * reason in err. */
int saverec_split(const uint8_t *img, size_t len, struct saverec *recs, unsigned max, unsigned *n,
		  char *err, size_t errlen);

#endif
