/* SPDX-License-Identifier: MIT */
#ifndef HVLOG_VERSION_H
#define HVLOG_VERSION_H

#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

#define HVLOG_VERSION_MAJOR 0
#define HVLOG_VERSION_MINOR 1
#define HVLOG_VERSION_PATCH 0
#define HVLOG_VERSION_STRING "0.1.0"

/**
 * hvlog_version - the library's version as "MAJOR.MINOR.PATCH", which may
 * differ from the headers a program was compiled with. Any thread.
 */
HVLOG_API const char *hvlog_version(void);

HVLOG_END_DECLS

#endif /* HVLOG_VERSION_H */
