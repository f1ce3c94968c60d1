/* SPDX-License-Identifier: MIT */
/*
 * The ABI profile (spec §10, §11, §12.1 `abi_profile`): which generation of
 * the interface both sides speak. It decides the input layouts and canonical
 * conventions of the nine calls (calls.h, D23), the meaning of the input
 * value's bits 31:17 (hypercall.h, §3.1, D12), the buffer header layout
 * (§4.4 vs §11.4, D9) and whether SystemDiagnostics exists (D6).
 *
 * One enum for every layer: the engine's configuration, the root client, the
 * trace walker and the tools all name the profile with it.
 */
#ifndef HVLOG_ABI_PROFILE_H
#define HVLOG_ABI_PROFILE_H

#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

enum hvlog_abi_profile {
    HVLOG_ABI_2013 = 0,    /* the 2013 reference pages (the default) */
    HVLOG_ABI_CURRENT = 1, /* §11: today's headers and the Linux root driver */
};

HVLOG_END_DECLS

#endif /* HVLOG_ABI_PROFILE_H */
