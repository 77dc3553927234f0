/* SPDX-License-Identifier: GPL-2.0 */
/* bench/ucore: the two sides, each timed by callgrind per function. */
#include <stdint.h>

int lfht_setup(unsigned long entries);
void lfht_inserts(const uint64_t *keys, unsigned long n);
uint64_t lfht_lookups(const uint64_t *keys, unsigned long n);
void lfht_deletes(const uint64_t *keys, unsigned long n);
