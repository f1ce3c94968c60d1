/* SPDX-License-Identifier: MIT */
/*
 * The §4.8 catalogue of one log type as an O(1) table by entry type, each
 * row's parameter names split out: the one parser of the catalogue's
 * "rip,msr_index,value" strings (issue 12), for decode and every export.
 * Readers look a class up for every entry.
 */
#ifndef HVLOG_TRACE_CATALOG_H
#define HVLOG_TRACE_CATALOG_H

#include <stdint.h>

#include "hvlog/abi/catalog.h"
#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

#define HVLOG_TRACE_MAX_PARAMS 16u
#define HVLOG_TRACE_PARAM_NAME_MAX 32u /* with its NUL: longer names are cut */

/* One catalogue row, its parameter names split out. */
struct hvlog_trace_class {
    const struct hvlog_entry_type_info *info;
    uint32_t param_count;
    char params[HVLOG_TRACE_MAX_PARAMS][HVLOG_TRACE_PARAM_NAME_MAX];
    uint8_t param_len[HVLOG_TRACE_MAX_PARAMS];
};

struct hvlog_trace_catalog {
    uint8_t slot[65536]; /* entry type -> 1 + index into classes; 0 = not catalogued */
    uint32_t count;
    struct hvlog_trace_class classes[255];
};

/** hvlog_trace_catalog_init - the catalogue of log @log_type (the first
 * row of an entry type wins). */
HVLOG_API void hvlog_trace_catalog_init(struct hvlog_trace_catalog *cat, uint32_t log_type);

/** hvlog_trace_catalog_find - the class of @entry_type, or NULL. */
static inline const struct hvlog_trace_class *hvlog_trace_catalog_find(const struct hvlog_trace_catalog *cat,
                                                                      uint16_t entry_type)
{
    return cat->slot[entry_type] ? &cat->classes[cat->slot[entry_type] - 1] : NULL;
}

HVLOG_END_DECLS

#endif /* HVLOG_TRACE_CATALOG_H */
