/* SPDX-License-Identifier: MIT */
/* Assertions and helpers the engine tests share (cmocka; not for the fuzzer). */
#ifndef HVLOG_TESTS_ENGINE_TEST_UTIL_H
#define HVLOG_TESTS_ENGINE_TEST_UTIL_H

#include <stdint.h>

#include "fake_host.h"

#define LOCAL HvEventLogTypeLocalDiagnostics
#define GLOBAL HvEventLogTypeGlobalSystemEvents
#define NONE_IDX HV_EVENTLOG_BUFFER_INDEX_NONE
/* One event source that FAKE_ALL_SOURCES enables in both profiles (bit 0 is
 * the current SetSources' "extended" flag, §11.3, D5). */
#define SOURCE 0x2ull

/* The scope a buffer of @type filled on @lp belongs to. */
uint32_t scope_of(uint32_t type, uint32_t lp);
/* The engine's queries, asserted to succeed. */
struct hvlog_scope_stats stats(struct fake_host *h, uint32_t type, uint32_t scope);
struct hvlog_group_info group(struct fake_host *h, uint32_t type);
uint8_t *buffer_bytes(struct fake_host *h, uint32_t type, uint32_t index);
/* The InUse buffer of @lp's scope, or NONE_IDX. */
uint32_t active(struct fake_host *h, uint32_t type, uint32_t lp);
/* Log on @lp until the scope's current buffer is exactly full (§7.3 step 6);
 * returns its index (now Complete or beyond). */
uint32_t fill_one(struct fake_host *h, uint32_t lp, uint32_t type);

/* §5.3 effects of Create on buffer (@type, @index) of @pages pages: it
 * exists in Standby; the header holds BufferSize, BufferIndex, Type,
 * Standby, an empty NextBufferOffset, NextBufferIndex NONE, Alignment 8
 * (2013 only) and LoggerId = Type (DEC-HDRFIELDS), everything else 0 - in
 * the conventions of the engine's profile (§4.4, §11.4); and every byte past
 * the header is zero (the fake pool hands pages out filled with 0xA5).
 * Returns the engine's view for further checks. */
struct hvlog_buffer_info assert_created_buffer(struct fake_host *h, uint32_t type, uint32_t index,
                                               uint32_t pages);

#endif /* HVLOG_TESTS_ENGINE_TEST_UTIL_H */
