/* SPDX-License-Identifier: MIT */
/*
 * A small strict JSON reader (RFC 8259) for the trace metadata file: the
 * whole text becomes a tree of nodes in two allocations. Internal to the
 * export layer: hvlog's library links no JSON library (jansson stays a
 * test-only dependency), and the metadata is a few kilobytes.
 *
 * Everything read is untrusted: nesting is limited, numbers are kept as
 * text and converted only on request with overflow checks, strings are
 * decoded (\uXXXX with surrogate pairs) and must be valid UTF-8 without NUL.
 */
#ifndef HVLOG_EXPORT_JSON_PARSE_H
#define HVLOG_EXPORT_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JP_MAX_DEPTH 32u
#define JP_NONE UINT32_MAX

enum jp_kind { JP_NULL, JP_FALSE, JP_TRUE, JP_NUMBER, JP_STRING, JP_ARRAY, JP_OBJECT };

struct jp_node {
    enum jp_kind kind;
    uint32_t first; /* arrays, objects: first child, or JP_NONE */
    uint32_t next;  /* next sibling, or JP_NONE */
    uint32_t count; /* arrays, objects: children */
    const char *key;  /* member of an object: its decoded name (NUL-terminated) */
    const char *text; /* strings: decoded, NUL-terminated; numbers: as written */
    size_t len;       /* of text */
};

struct jp_doc {
    struct jp_node *nodes; /* nodes[0] is the root */
    uint32_t count;
    uint32_t cap;
    char *strings; /* decoded strings, each NUL-terminated */
    size_t strings_used;
    char error[160]; /* "line 3, column 7: expected ':'" */
};

/** jp_parse - parse @len bytes of @text into @doc. Returns true, or false
 * with doc->error set; jp_doc_free() in either case. */
bool jp_parse(struct jp_doc *doc, const char *text, size_t len);
void jp_doc_free(struct jp_doc *doc);

static inline const struct jp_node *jp_root(const struct jp_doc *doc)
{
    return doc->count ? &doc->nodes[0] : NULL;
}

/** jp_member - the first member of object @obj named @key, or NULL. */
const struct jp_node *jp_member(const struct jp_doc *doc, const struct jp_node *obj,
                                    const char *key);
/** jp_first, jp_next - the children of an array or object, in order; NULL after the last. */
const struct jp_node *jp_first(const struct jp_doc *doc, const struct jp_node *parent);
const struct jp_node *jp_next(const struct jp_doc *doc, const struct jp_node *node);

/** jp_u64 - a number written as a plain non-negative integer that fits
 * 64 bits (no sign, fraction or exponent). */
bool jp_u64(const struct jp_node *node, uint64_t *out);

#endif /* HVLOG_EXPORT_JSON_PARSE_H */
