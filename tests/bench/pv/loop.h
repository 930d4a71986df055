/*
 * The CPU-bound loop tests/bench/pv runs both in a PV guest and as a host
 * process: integer work only (xorshift), no memory traffic, no calls.
 */
#ifndef KEEL_BENCH_PV_LOOP_H
#define KEEL_BENCH_PV_LOOP_H

#include <stdint.h>

#define BENCH_LOOP_ITERS 400000000ULL

static inline uint64_t bench_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t bench_loop(uint64_t n, uint64_t x)
{
	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

#endif
