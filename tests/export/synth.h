/* SPDX-License-Identifier: MIT */
/*
 * Synthetic traces for the export tests: valid buffers made by hand with
 * the layout.h codecs, in either header convention, with a known content
 * and a known loss pattern, so every reader of the result can be checked
 * against exact numbers.
 *
 * Content rules (the python bt2 check relies on them):
 *   - an entry's Context is (lp << 20) | sequence, the sequence counting
 *     the LP's entries from 0;
 *   - parameter j of a catalogued entry is Context * 256 + j;
 *   - every 7th entry has an unknown type (0x0FFF) with 12 payload bytes
 *     (escape class), every 11th a catalogued type with 8 extra bytes;
 *   - when loss is on, buffer b of an LP (counting from 0) has EventsLost
 *     b when b % 3 == 2, and LP 1's first buffer has 3 (a gap before the
 *     first packet of a stream).
 */
#ifndef HVLOG_TESTS_EXPORT_SYNTH_H
#define HVLOG_TESTS_EXPORT_SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlog/trace/walk.h"
#include "hvlog/trace/trace.h"

/* 2,048: a host of real size (issue 16, the "scale" fixture case). */
#define SYNTH_MAX_LPS 2048u
#define SYNTH_UNKNOWN_TYPE 0x0FFFu

/* Invalid input on purpose: where LP 0's time goes back (synth_spec.backwards). */
enum synth_backwards {
    SYNTH_IN_ORDER,          /* time never goes back */
    SYNTH_BACK_IN_BUFFER,    /* buffer 1's third entry is older than its second */
    SYNTH_BACK_ACROSS_BUFFERS, /* buffer 2 (header TimeStamp still in order) starts before
                              * buffer 1's last entry */
};

/* Each way of going back, with the words the refusal must contain: the
 * CTF and Perfetto exports refuse both alike (hvlog__export_time_fail). */
struct synth_backwards_case {
    enum synth_backwards where;
    const char *what;
};
#define SYNTH_BACKWARDS_CASES 2u
extern const struct synth_backwards_case synth_backwards_cases[SYNTH_BACKWARDS_CASES];

struct synth_spec {
    uint32_t type;                 /* log type */
    uint32_t lps;
    uint32_t buffers_per_lp;
    uint32_t pages;                /* per buffer */
    uint32_t max_entries;          /* per buffer, at most (it also stops when full) */
    enum hvlog_abi_profile convention;
    uint32_t time_basis;
    bool loss;                     /* EventsLost on some buffers */
    bool swap_release;             /* release some buffers of an LP before older ones */
    enum synth_backwards backwards; /* make LP 0's time go back (invalid input) */
};

struct synth_expect {
    uint64_t events[SYNTH_MAX_LPS];
    uint64_t lost[SYNTH_MAX_LPS];
    uint64_t buffers[SYNTH_MAX_LPS];
    uint64_t escape[SYNTH_MAX_LPS]; /* entries in the escape class */
    uint64_t total_events;
    uint64_t total_lost;
    uint64_t total_buffers;
};

/* Called with each buffer in release order. */
typedef int (*synth_buffer_fn)(void *arg, const uint8_t *bytes, uint32_t len);

/** synth_generate - build the buffers of @spec, hand each to @fn in release order. */
int synth_generate(const struct synth_spec *spec, synth_buffer_fn fn, void *arg,
                   struct synth_expect *expect);

/* The buffers synth_generate gave, back to back (each @len bytes; free
 * bytes): synth_capture as its @fn with one of these as @arg. */
struct synth_captured {
    uint8_t *bytes;
    uint32_t len, count;
};
int synth_capture(void *arg, const uint8_t *bytes, uint32_t len);

/** synth_meta - metadata matching @spec (a static command line; no lps array). */
void synth_meta(const struct synth_spec *spec, struct hvlog_trace_meta *meta);

/** synth_write_trace - write @spec as a trace directory @dir (replacing it). */
int synth_write_trace(const struct synth_spec *spec, const char *dir, struct synth_expect *expect);

/** synth_write_groups - @n groups (distinct types) in one trace directory;
 * @expects[i] receives group i's numbers; the lps array describes group 0. */
int synth_write_groups(const struct synth_spec *specs, uint32_t n, const char *dir,
                       struct synth_expect *expects);

/** synth_write_raw - write @spec's buffers as a bare file @path. */
int synth_write_raw(const struct synth_spec *spec, const char *path, struct synth_expect *expect);

/**
 * synth_write_raw_mixed - the buffers of @n specs (distinct log types, each
 * with its own size and convention) as one bare file @path, interleaved as
 * a capture of several groups would hold them: one buffer of each spec in
 * turn, in each spec's release order. @expects[i] receives spec i's numbers.
 */
int synth_write_raw_mixed(const struct synth_spec *specs, uint32_t n, const char *path,
                          struct synth_expect *expects);

/** synth_edit_meta - replace every @from in the metadata text of trace
 * @dir by @to (to make traces of older writers, or other numbers); returns
 * the number of replacements, -1 on an I/O error. */
int synth_edit_meta(const char *dir, const char *from, const char *to);

/**
 * synth_break_entries - make one buffer of trace @dir corrupt behind a
 * header that passes every check: the first entry of LP @lp's buffer
 * number @nth in fill order, in group @type, gets Size 8 (below 16, bad in
 * both conventions); buffers broken before are not counted (call it
 * again with the same @nth to break the next one). *@victim (may be NULL) receives that buffer's index
 * entry, its entries counted; @expect (may be NULL) loses the buffer's
 * entries, escape entries, EventsLost and the buffer itself, so it says
 * what an export that skips it delivers. Returns 0, or -1 when there is
 * no such buffer or on an I/O error.
 */
int synth_break_entries(const char *dir, uint32_t type, uint32_t lp, uint32_t nth,
                        struct hvlog_trace_slot *victim, struct synth_expect *expect);

/** synth_write_expect - the expectations as JSON for tests/export/ctf_check.py. */
int synth_write_expect(const struct synth_spec *spec, const struct synth_expect *expect,
                       const char *path);

/* ---- file-system helpers for the tests ---- */

/** synth_setup_tmp / synth_teardown_tmp - cmocka setup and teardown: *state
 * is a fresh directory for the test, removed with everything in it after. */
int synth_setup_tmp(void **state);
int synth_teardown_tmp(void **state);

/** synth_open - write @spec as trace @base/t and open it; NULL on failure. */
struct hvlog_trace_reader *synth_open(const char *base, const struct synth_spec *spec,
                                      struct synth_expect *expect);

/** synth_tmpdir - a fresh empty directory under $TMPDIR or /tmp (malloc'd path). */
char *synth_tmpdir(void);
/** synth_rmtree - remove @path and everything below it. */
void synth_rmtree(const char *path);
/** synth_path - malloc'd "@dir/@name". */
char *synth_path(const char *dir, const char *name);
/** synth_dir_entries - entries of directory @dir, hidden ones included; -1 if none. */
int synth_dir_entries(const char *dir);
/** synth_exists - does @path exist (lstat)? */
bool synth_exists(const char *path);

#endif /* HVLOG_TESTS_EXPORT_SYNTH_H */
