/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A skewed key trace and an exact LRU cache simulated over it, to judge an
 * HMAP_F_LRU map's hit rate against the policy it approximates. Shared by
 * lru_test (which asserts) and the benchmark (which reports).
 */
#ifndef _HMAP_LRU_SIM_H
#define _HMAP_LRU_SIM_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* xorshift64*: a seeded, replayable sequence. */
static inline uint64_t sim_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/*
 * @n accesses to keys 0..@keys-1 drawn from a Zipf distribution of exponent
 * @s (rank r has weight 1/r^s), into @trace.
 */
static inline void sim_zipf_trace(uint32_t *trace, uint32_t n, uint32_t keys,
				  double s, uint64_t seed)
{
	double *cdf = malloc(keys * sizeof(*cdf)), sum = 0, u;
	uint32_t i, lo, hi, mid;

	for (i = 0; i < keys; i++)
		sum += 1.0 / pow(i + 1, s);
	for (i = 0, u = 0; i < keys; i++) {
		u += 1.0 / pow(i + 1, s) / sum;
		cdf[i] = u;
	}
	for (i = 0; i < n; i++) {
		u = (double)(sim_rand(&seed) >> 11) / (double)(1ULL << 53);
		for (lo = 0, hi = keys - 1; lo < hi;) {
			mid = (lo + hi) / 2;
			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* Spread the ranks over the key space: hot keys not adjacent. */
		trace[i] = (uint32_t)((lo * 2654435761ULL) % keys);
	}
	free(cdf);
}

/*
 * Hits of an exact LRU cache of @cap entries over @trace: a doubly linked
 * recency list over an array indexed by key.
 */
static inline uint32_t sim_exact_lru_hits(const uint32_t *trace, uint32_t n,
					  uint32_t keys, uint32_t cap)
{
	int32_t *prev = malloc(keys * sizeof(int32_t));
	int32_t *next = malloc(keys * sizeof(int32_t));
	uint8_t *in = calloc(keys, 1);
	int32_t head = -1, tail = -1, k;
	uint32_t i, hits = 0, size = 0;

	for (i = 0; i < n; i++) {
		k = trace[i];
		if (in[k]) {
			hits++;
			/* Unlink, to move to the head. */
			if (prev[k] >= 0)
				next[prev[k]] = next[k];
			else
				head = next[k];
			if (next[k] >= 0)
				prev[next[k]] = prev[k];
			else
				tail = prev[k];
		} else if (size == cap) {
			/* Evict the tail. */
			in[tail] = 0;
			if (prev[tail] >= 0)
				next[prev[tail]] = -1;
			else
				head = -1;
			tail = prev[tail];
		} else {
			size++;
		}
		in[k] = 1;
		prev[k] = -1;
		next[k] = head;
		if (head >= 0)
			prev[head] = k;
		head = k;
		if (tail < 0)
			tail = k;
	}
	free(prev);
	free(next);
	free(in);
	return hits;
}

#endif /* _HMAP_LRU_SIM_H */
