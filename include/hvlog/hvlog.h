/* SPDX-License-Identifier: MIT */
/* The umbrella header: the ABI layer and the version. Layers above include
 * their own headers (hvlog/engine/..., hvlog/client/...). */
#ifndef HVLOG_HVLOG_H
#define HVLOG_HVLOG_H

#include "hvlog/abi/calls.h"
#include "hvlog/abi/catalog.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/hypercall.h"
#include "hvlog/abi/layout.h"
#include "hvlog/abi/le.h"
#include "hvlog/abi/profile.h"
#include "hvlog/abi/status.h"
#include "hvlog/abi/synic.h"
#include "hvlog/version.h"

#endif /* HVLOG_HVLOG_H */
