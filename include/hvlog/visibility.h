/* SPDX-License-Identifier: MIT */
/*
 * The one visibility macro of libhvlog (HVLOG_API) and the C++ guards.
 * (Named visibility.h, not export.h, so that it cannot be taken for the
 * export layer, hvlog/export/.)
 *
 * The library is built with hidden visibility; only declarations marked
 * HVLOG_API are part of the shared object's surface.
 */
#ifndef HVLOG_VISIBILITY_H
#define HVLOG_VISIBILITY_H

#if defined(HVLOG_BUILDING_SHARED) && defined(__GNUC__)
#define HVLOG_API __attribute__((visibility("default")))
#else
#define HVLOG_API
#endif

#ifdef __cplusplus
#define HVLOG_BEGIN_DECLS extern "C" {
#define HVLOG_END_DECLS }
#else
#define HVLOG_BEGIN_DECLS
#define HVLOG_END_DECLS
#endif

#endif /* HVLOG_VISIBILITY_H */
