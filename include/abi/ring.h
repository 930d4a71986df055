/*
 * Xen's shared I/O ring, as Keel's own C.  A split driver's frontend and
 * backend share one (or 2^order) page(s): a 64-byte header of free-running
 * 32-bit indices -- req_prod, req_event, rsp_prod, rsp_event, 4 private bytes,
 * 44 bytes of padding -- followed by an array of entries, each the union of
 * one request and one response, whose count is the largest power of two that
 * fits.  Requests and responses share slots: the frontend produces requests,
 * the backend consumes them and writes each response into a consumed slot.
 *
 * Notification follows Xen's event-index rule: a consumer that runs out of
 * work sets *_event to (its consumer index + 1); a producer that moves its
 * producer index from old to new must notify iff the event index lies in
 * (old, new].  Indices wrap at 2^32, so every comparison is done on unsigned
 * differences.
 *
 * KEEL_RING_DEFINE(name, req_type, rsp_type) declares struct name_sring,
 * struct name_front_ring and struct name_back_ring and a family of static
 * inline functions name_*.  Everything here is freestanding (no libc), so the
 * guest runtime and the dom0 backends use the same code.  Shared indices are
 * read and written with atomic (untearable) accesses; barriers are explicit.
 */
#ifndef KEEL_ABI_RING_H
#define KEEL_ABI_RING_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t ring_idx_t;

/* Barriers between the two ends (which may run on different CPUs). */
#define ring_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define ring_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define ring_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

#define ring_load(p)	 __atomic_load_n((p), __ATOMIC_RELAXED)
#define ring_store(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* The 64-byte header every shared ring starts with. */
#define RING_HEADER_SIZE 64

/* Largest power of two <= n (0 for 0). */
static inline uint32_t ring_round_down_pow2(uint32_t n)
{
	while (n & (n - 1))
		n &= n - 1;
	return n;
}

/* Entries of @entry_size bytes in a ring of @ring_bytes (header included). */
static inline uint32_t ring_entries(size_t ring_bytes, size_t entry_size)
{
	if (ring_bytes <= RING_HEADER_SIZE || !entry_size)
		return 0;
	return ring_round_down_pow2((uint32_t)((ring_bytes - RING_HEADER_SIZE) / entry_size));
}

/* True iff a producer moving old -> new must notify a consumer waiting at event. */
static inline int ring_need_notify(ring_idx_t old, ring_idx_t new_, ring_idx_t event)
{
	return (ring_idx_t)(new_ - event) < (ring_idx_t)(new_ - old);
}

#define KEEL_RING_DEFINE(name, req_type, rsp_type)                                                  \
	union name##_sring_entry {                                                                  \
		req_type req;                                                                       \
		rsp_type rsp;                                                                       \
	};                                                                                          \
                                                                                                    \
	struct name##_sring {                                                                       \
		ring_idx_t req_prod, req_event;                                                     \
		ring_idx_t rsp_prod, rsp_event;                                                     \
		uint8_t pvt[4];                                                                     \
		uint8_t pad[44];                                                                    \
		union name##_sring_entry ring[];                                                    \
	};                                                                                          \
                                                                                                    \
	/* Frontend-private state: never shared. */                                                 \
	struct name##_front_ring {                                                                  \
		ring_idx_t req_prod_pvt; /* next request slot to fill */                            \
		ring_idx_t rsp_cons;	 /* next response to read */                                \
		uint32_t nr_ents;                                                                   \
		struct name##_sring *sring;                                                         \
	};                                                                                          \
                                                                                                    \
	/* Backend-private state: never shared. */                                                  \
	struct name##_back_ring {                                                                   \
		ring_idx_t rsp_prod_pvt; /* next response slot to fill */                           \
		ring_idx_t req_cons;	 /* next request to read */                                 \
		uint32_t nr_ents;                                                                   \
		struct name##_sring *sring;                                                         \
	};                                                                                          \
                                                                                                    \
	static inline uint32_t name##_ring_nr_ents(size_t ring_bytes)                               \
	{                                                                                           \
		return ring_entries(ring_bytes, sizeof(union name##_sring_entry));                  \
	}                                                                                           \
                                                                                                    \
	/* Done once by the frontend before it publishes the ring. */                               \
	static inline void name##_sring_init(struct name##_sring *s)                                \
	{                                                                                           \
		s->req_prod = s->rsp_prod = 0;                                                      \
		s->req_event = s->rsp_event = 1;                                                    \
		for (unsigned int i = 0; i < sizeof(s->pvt); i++)                                   \
			s->pvt[i] = 0;                                                              \
		for (unsigned int i = 0; i < sizeof(s->pad); i++)                                   \
			s->pad[i] = 0;                                                              \
	}                                                                                           \
                                                                                                    \
	static inline void name##_front_attach(struct name##_front_ring *r,                         \
					       struct name##_sring *s, ring_idx_t start,            \
					       size_t ring_bytes)                                   \
	{                                                                                           \
		r->req_prod_pvt = start;                                                            \
		r->rsp_cons = start;                                                                \
		r->nr_ents = name##_ring_nr_ents(ring_bytes);                                       \
		r->sring = s;                                                                       \
	}                                                                                           \
                                                                                                    \
	static inline void name##_front_init(struct name##_front_ring *r, struct name##_sring *s,   \
					     size_t ring_bytes)                                     \
	{                                                                                           \
		name##_front_attach(r, s, 0, ring_bytes);                                           \
	}                                                                                           \
                                                                                                    \
	static inline void name##_back_attach(struct name##_back_ring *r, struct name##_sring *s,   \
					      ring_idx_t start, size_t ring_bytes)                  \
	{                                                                                           \
		r->rsp_prod_pvt = start;                                                            \
		r->req_cons = start;                                                                \
		r->nr_ents = name##_ring_nr_ents(ring_bytes);                                       \
		r->sring = s;                                                                       \
	}                                                                                           \
                                                                                                    \
	static inline void name##_back_init(struct name##_back_ring *r, struct name##_sring *s,     \
					    size_t ring_bytes)                                      \
	{                                                                                           \
		name##_back_attach(r, s, 0, ring_bytes);                                            \
	}                                                                                           \
                                                                                                    \
	/* Slots the frontend may still fill before responses are consumed. */                      \
	static inline uint32_t name##_front_free_requests(const struct name##_front_ring *r)        \
	{                                                                                           \
		return r->nr_ents - (r->req_prod_pvt - r->rsp_cons);                                \
	}                                                                                           \
                                                                                                    \
	static inline int name##_front_full(const struct name##_front_ring *r)                      \
	{                                                                                           \
		return name##_front_free_requests(r) == 0;                                          \
	}                                                                                           \
                                                                                                    \
	static inline req_type *name##_front_request(struct name##_front_ring *r, ring_idx_t idx)   \
	{                                                                                           \
		return &r->sring->ring[idx & (r->nr_ents - 1)].req;                                 \
	}                                                                                           \
                                                                                                    \
	static inline rsp_type *name##_front_response(struct name##_front_ring *r, ring_idx_t idx)  \
	{                                                                                           \
		return &r->sring->ring[idx & (r->nr_ents - 1)].rsp;                                 \
	}                                                                                           \
                                                                                                    \
	static inline req_type *name##_back_request(struct name##_back_ring *r, ring_idx_t idx)     \
	{                                                                                           \
		return &r->sring->ring[idx & (r->nr_ents - 1)].req;                                 \
	}                                                                                           \
                                                                                                    \
	static inline rsp_type *name##_back_response(struct name##_back_ring *r, ring_idx_t idx)    \
	{                                                                                           \
		return &r->sring->ring[idx & (r->nr_ents - 1)].rsp;                                 \
	}                                                                                           \
                                                                                                    \
	/* Copy a request out of shared memory once, so the other end cannot change it            \
	 * between validation and use. */ \
	static inline void name##_back_copy_request(struct name##_back_ring *r, ring_idx_t idx,     \
						    req_type *dst)                                  \
	{                                                                                           \
		*dst = *(volatile req_type *)name##_back_request(r, idx);                           \
	}                                                                                           \
                                                                                                    \
	static inline void name##_front_copy_response(struct name##_front_ring *r, ring_idx_t idx,  \
						      rsp_type *dst)                                \
	{                                                                                           \
		*dst = *(volatile rsp_type *)name##_front_response(r, idx);                         \
	}                                                                                           \
                                                                                                    \
	/* Responses published but not yet consumed; entries may be read after this. */             \
	static inline uint32_t name##_front_unconsumed_responses(                                   \
		const struct name##_front_ring *r)                                                  \
	{                                                                                           \
		uint32_t n = ring_load(&r->sring->rsp_prod) - r->rsp_cons;                          \
		ring_rmb();                                                                         \
		return n;                                                                           \
	}                                                                                           \
                                                                                                    \
	/* Requests published but not yet consumed, capped by the free response slots so        \
	 * a frontend that overruns the producer index cannot make us loop. */   \
	static inline uint32_t name##_back_unconsumed_requests(const struct name##_back_ring *r)    \
	{                                                                                           \
		uint32_t req = ring_load(&r->sring->req_prod) - r->req_cons;                        \
		uint32_t rsp = r->nr_ents - (r->req_cons - r->rsp_prod_pvt);                        \
		ring_rmb();                                                                         \
		return req < rsp ? req : rsp;                                                       \
	}                                                                                           \
                                                                                                    \
	/* Would consuming request @cons overrun the responses not yet produced? */                 \
	static inline int name##_back_cons_overflow(const struct name##_back_ring *r,               \
						    ring_idx_t cons)                                \
	{                                                                                           \
		return (ring_idx_t)(cons - r->rsp_prod_pvt) >= r->nr_ents;                          \
	}                                                                                           \
                                                                                                    \
	/* Is a frontend's req_prod impossible (more requests than slots)? */                       \
	static inline int name##_back_prod_overflow(const struct name##_back_ring *r,               \
						    ring_idx_t prod)                                \
	{                                                                                           \
		return (ring_idx_t)(prod - r->rsp_prod_pvt) > r->nr_ents;                           \
	}                                                                                           \
                                                                                                    \
	/* Is a backend's rsp_prod impossible? */                                                   \
	static inline int name##_front_prod_overflow(const struct name##_front_ring *r,             \
						     ring_idx_t prod)                               \
	{                                                                                           \
		return (ring_idx_t)(prod - r->rsp_cons) > r->nr_ents;                               \
	}                                                                                           \
                                                                                                    \
	static inline void name##_front_push(struct name##_front_ring *r)                           \
	{                                                                                           \
		ring_wmb(); /* entries visible before the index */                                  \
		ring_store(&r->sring->req_prod, r->req_prod_pvt);                                   \
	}                                                                                           \
                                                                                                    \
	static inline void name##_back_push(struct name##_back_ring *r)                             \
	{                                                                                           \
		ring_wmb();                                                                         \
		ring_store(&r->sring->rsp_prod, r->rsp_prod_pvt);                                   \
	}                                                                                           \
                                                                                                    \
	/* Publish requests; returns 1 iff the backend asked to be notified. */                     \
	static inline int name##_front_push_check_notify(struct name##_front_ring *r)               \
	{                                                                                           \
		ring_idx_t old = ring_load(&r->sring->req_prod);                                    \
		ring_idx_t new_ = r->req_prod_pvt;                                                  \
		ring_wmb();                                                                         \
		ring_store(&r->sring->req_prod, new_);                                              \
		ring_mb(); /* index visible before we read req_event */                             \
		return ring_need_notify(old, new_, ring_load(&r->sring->req_event));                \
	}                                                                                           \
                                                                                                    \
	/* Publish responses; returns 1 iff the frontend asked to be notified. */                   \
	static inline int name##_back_push_check_notify(struct name##_back_ring *r)                 \
	{                                                                                           \
		ring_idx_t old = ring_load(&r->sring->rsp_prod);                                    \
		ring_idx_t new_ = r->rsp_prod_pvt;                                                  \
		ring_wmb();                                                                         \
		ring_store(&r->sring->rsp_prod, new_);                                              \
		ring_mb();                                                                          \
		return ring_need_notify(old, new_, ring_load(&r->sring->rsp_event));                \
	}                                                                                           \
                                                                                                    \
	/* Before sleeping: ask for a notification on the next request, then look again          \
	 * so one that raced with us is not missed.  Returns the work found. */  \
	static inline uint32_t name##_back_final_check(struct name##_back_ring *r)                  \
	{                                                                                           \
		uint32_t work = name##_back_unconsumed_requests(r);                                 \
		if (work)                                                                           \
			return work;                                                                \
		ring_store(&r->sring->req_event, r->req_cons + 1);                                  \
		ring_mb();                                                                          \
		return name##_back_unconsumed_requests(r);                                          \
	}                                                                                           \
                                                                                                    \
	static inline uint32_t name##_front_final_check(struct name##_front_ring *r)                \
	{                                                                                           \
		uint32_t work = name##_front_unconsumed_responses(r);                               \
		if (work)                                                                           \
			return work;                                                                \
		ring_store(&r->sring->rsp_event, r->rsp_cons + 1);                                  \
		ring_mb();                                                                          \
		return name##_front_unconsumed_responses(r);                                        \
	}                                                                                           \
                                                                                                    \
	_Static_assert(offsetof(struct name##_sring, req_event) == 4, #name " req_event");          \
	_Static_assert(offsetof(struct name##_sring, rsp_prod) == 8, #name " rsp_prod");            \
	_Static_assert(offsetof(struct name##_sring, rsp_event) == 12, #name " rsp_event");         \
	_Static_assert(offsetof(struct name##_sring, pvt) == 16, #name " pvt");                     \
	_Static_assert(offsetof(struct name##_sring, ring) == RING_HEADER_SIZE, #name " header")

#endif
