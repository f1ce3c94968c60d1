/* SPDX-License-Identifier: MIT */
/*
 * Name lookups generated from the ABI tables (status, eventlog, calls, catalog).
 *
 * Freestanding (libhvlog-engine, docs/embedding.md): no libc beyond what the
 * compiler may emit (memcpy, memset, memmove, memcmp), so the few string
 * helpers it needs are its own.
 */
#include <stddef.h>
#include <stdint.h>

#include "hvlog/abi/calls.h"
#include "hvlog/abi/catalog.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/status.h"
#include "hvlog/version.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ASCII only: the tables' names are ASCII, and a locale is a libc notion. */
static unsigned ascii_lower(char c)
{
    unsigned u = (unsigned char)c;

    return u >= 'A' && u <= 'Z' ? u - 'A' + 'a' : u;
}

/* strncasecmp over at most @n bytes; SIZE_MAX for whole strings. */
static int ascii_casecmp_n(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned x = ascii_lower(a[i]), y = ascii_lower(b[i]);
        if (x != y)
            return x < y ? -1 : 1;
        if (x == 0)
            return 0;
    }
    return 0;
}

static int ascii_casecmp(const char *a, const char *b)
{
    return ascii_casecmp_n(a, b, SIZE_MAX);
}

static size_t string_length(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

struct named_value {
    uint32_t value;
    const char *name;
    const char *text;
};

static const char *lookup(const struct named_value *table, size_t len, uint32_t value, int text)
{
    for (size_t i = 0; i < len; i++) {
        if (table[i].value == value)
            return text ? table[i].text : table[i].name;
    }
    return NULL;
}

/* ---- HV_STATUS ---- */

static const struct named_value status_table[] = {
#define ROW(name, value, text) {(value), #name, (text)},
    HV_STATUS_TABLE(ROW)
#undef ROW
};

const char *hvlog_status_name(hv_status_t status)
{
    return lookup(status_table, ARRAY_LEN(status_table), status, 0);
}

const char *hvlog_status_text(hv_status_t status)
{
    return lookup(status_table, ARRAY_LEN(status_table), status, 1);
}

const char *hvlog_status_format(hv_status_t status, char *buf, size_t buf_size)
{
    const char *name = hvlog_status_name(status);

    char hex[] = "HV_STATUS_0x0000";
    const char *text = name;
    size_t i;

    if (buf_size == 0)
        return buf;
    if (!name) { /* "HV_STATUS_0x%04X" without printf */
        for (int d = 0; d < 4; d++)
            hex[sizeof hex - 2 - d] = "0123456789ABCDEF"[(status >> (4 * d)) & 0xF];
        text = hex;
    }
    /* As snprintf would: truncated to fit, always terminated. */
    for (i = 0; i + 1 < buf_size && text[i]; i++)
        buf[i] = text[i];
    buf[i] = '\0';
    return buf;
}

/* ---- event-log enumerations ---- */

#define ROW(name, value, text) {(value), (text), #name},
static const struct named_value type_table[] = {HV_EVENTLOG_TYPE_TABLE(ROW)};
static const struct named_value state_table[] = {HV_EVENTLOG_BUFFER_STATE_TABLE(ROW)};
static const struct named_value basis_table[] = {HV_EVENTLOG_TIME_BASIS_TABLE(ROW)};
static const struct named_value mode_table[] = {HV_EVENTLOG_MODE_TABLE(ROW)};
static const struct named_value message_table[] = {HV_MESSAGE_TYPE_TABLE(ROW)};
#undef ROW

_Static_assert(ARRAY_LEN(type_table) == HVLOG_TYPE_COUNT &&
                   HVLOG_TYPE_COUNT == HvEventLogTypeMaximumCurrent + 1u,
               "HVLOG_TYPE_COUNT counts the rows of HV_EVENTLOG_TYPE_TABLE");

const char *hvlog_eventlog_type_name(uint32_t type)
{
    return lookup(type_table, ARRAY_LEN(type_table), type, 0);
}

const char *hvlog_buffer_state_name(uint32_t state)
{
    return lookup(state_table, ARRAY_LEN(state_table), state, 0);
}

const char *hvlog_time_basis_name(uint32_t basis)
{
    return lookup(basis_table, ARRAY_LEN(basis_table), basis, 0);
}

const char *hvlog_eventlog_mode_name(uint32_t mode)
{
    return lookup(mode_table, ARRAY_LEN(mode_table), mode, 0);
}

const char *hvlog_message_type_name(uint32_t type)
{
    return lookup(message_table, ARRAY_LEN(message_table), type, 0);
}

/* ---- the nine calls ---- */

static const struct hvlog_call_info call_table[] = {
#define ROW(code, name, shortname, c13, ccur, in13, incur, out) \
    {(code), #name, #shortname, HVLOG_CALL_##c13, HVLOG_CALL_##ccur, (in13), (incur), (out)},
    HV_EVENTLOG_CALL_TABLE(ROW)
#undef ROW
};
_Static_assert(ARRAY_LEN(call_table) == HV_EVENTLOG_CALL_COUNT, "nine calls");

const struct hvlog_call_info *hvlog_call_info(uint32_t code)
{
    /* The codes are contiguous (§2.1), so the row is found by subtraction. */
    if (code < HV_EVENTLOG_CALL_FIRST || code > HV_EVENTLOG_CALL_LAST)
        return NULL;
    return &call_table[code - HV_EVENTLOG_CALL_FIRST];
}

const struct hvlog_call_info *hvlog_call_info_at(size_t i)
{
    return i < ARRAY_LEN(call_table) ? &call_table[i] : NULL;
}

const char *hvlog_call_name(uint32_t code)
{
    const struct hvlog_call_info *info = hvlog_call_info(code);
    return info ? info->name : NULL;
}

const char *hvlog_call_convention_name(enum hvlog_call_convention convention)
{
    switch (convention) {
    case HVLOG_CALL_FAST:
        return "fast";
    case HVLOG_CALL_MEMORY:
        return "memory";
    }
    return "unknown";
}

/* ---- enable flags and entry types ---- */

static const struct hvlog_enable_flag_info flag_table[] = {
#define ROW(logtype, name, value, shortname, origin) {(logtype), #name, (value), (shortname)},
    HV_EVENTLOG_ENABLE_FLAG_TABLE(ROW)
#undef ROW
};

const struct hvlog_enable_flag_info *hvlog_enable_flag_at(size_t i)
{
    return i < ARRAY_LEN(flag_table) ? &flag_table[i] : NULL;
}

const struct hvlog_enable_flag_info *hvlog_enable_flag_find(uint32_t log_type, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < ARRAY_LEN(flag_table); i++) {
        const struct hvlog_enable_flag_info *f = &flag_table[i];
        if (f->log_type == log_type &&
            (ascii_casecmp(f->short_name, name) == 0 || ascii_casecmp(f->name, name) == 0))
            return f;
    }
    return NULL;
}

static const struct hvlog_entry_type_info entry_table[] = {
#define ROW(logtype, value, name, group, params) {(logtype), (value), #name, (group), (params)},
    HV_EVENTLOG_ENTRY_TYPE_TABLE(ROW)
#undef ROW
};

const struct hvlog_entry_type_info *hvlog_entry_type_info(uint32_t log_type, uint16_t entry_type)
{
    for (size_t i = 0; i < ARRAY_LEN(entry_table); i++) {
        if (entry_table[i].log_type == log_type && entry_table[i].entry_type == entry_type)
            return &entry_table[i];
    }
    return NULL;
}

const struct hvlog_entry_type_info *hvlog_entry_type_at(size_t i)
{
    return i < ARRAY_LEN(entry_table) ? &entry_table[i] : NULL;
}

static const char *strip_prefix(const char *name)
{
    static const char *const prefixes[] = {"HV_TR_", "HV_EVENTLOG_"};
    for (size_t i = 0; i < ARRAY_LEN(prefixes); i++) {
        size_t n = string_length(prefixes[i]);
        if (ascii_casecmp_n(name, prefixes[i], n) == 0)
            return name + n;
    }
    return name;
}

const struct hvlog_entry_type_info *hvlog_entry_type_find(const char *name)
{
    if (!name)
        return NULL;
    const struct hvlog_entry_type_info *suffix_match = NULL;
    size_t len = string_length(name), suffix_matches = 0;

    for (size_t i = 0; i < ARRAY_LEN(entry_table); i++) {
        const char *full = entry_table[i].name;
        size_t full_len = string_length(full);

        if (ascii_casecmp(full, name) == 0 || ascii_casecmp(strip_prefix(full), strip_prefix(name)) == 0)
            return &entry_table[i];
        /* "CPUID" for HV_TR_IM_CPUID: whole words at the end of the name. */
        if (len > 0 && full_len > len && full[full_len - len - 1] == '_' &&
            ascii_casecmp(full + full_len - len, name) == 0) {
            suffix_match = &entry_table[i];
            suffix_matches++;
        }
    }
    return suffix_matches == 1 ? suffix_match : NULL;
}

/* ---- version ---- */

const char *hvlog_version(void)
{
    return HVLOG_VERSION_STRING;
}
