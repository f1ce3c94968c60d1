/* SPDX-License-Identifier: MIT */
/*
 * The one export macro of libhvlog and the C++ guards.
 *
 * The library is built with hidden visibility; only declarations marked
 * HVLOG_API are part of the shared object's surface.
 */
#ifndef HVLOG_EXPORT_H
#define HVLOG_EXPORT_H

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

#endif /* HVLOG_EXPORT_H */
