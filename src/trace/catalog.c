/* SPDX-License-Identifier: MIT */
/* The catalogue by entry type (hvlog/trace/catalog.h). */
#include <string.h>

#include "hvlog/trace/catalog.h"

void hvlog_trace_catalog_init(struct hvlog_trace_catalog *cat, uint32_t log_type)
{
    const struct hvlog_entry_type_info *info;

    memset(cat->slot, 0, sizeof cat->slot);
    cat->count = 0;
    for (size_t i = 0; (info = hvlog_entry_type_at(i)) != NULL; i++) {
        struct hvlog_trace_class *c;
        const char *p;

        if (info->log_type != log_type || cat->slot[info->entry_type] ||
            cat->count == sizeof cat->classes / sizeof cat->classes[0])
            continue;
        c = &cat->classes[cat->count++];
        memset(c, 0, sizeof(*c));
        c->info = info;
        /* "rip,msr_index,value": split at commas; "" has no parameters. */
        p = info->params;
        while (*p && c->param_count < HVLOG_TRACE_MAX_PARAMS) {
            size_t n = strcspn(p, ",");
            size_t keep = n < HVLOG_TRACE_PARAM_NAME_MAX - 1 ? n : HVLOG_TRACE_PARAM_NAME_MAX - 1;

            memcpy(c->params[c->param_count], p, keep);
            c->params[c->param_count][keep] = '\0';
            c->param_len[c->param_count] = (uint8_t)keep;
            c->param_count++;
            p += n;
            if (*p == ',')
                p++;
        }
        cat->slot[info->entry_type] = (uint8_t)cat->count;
    }
}
