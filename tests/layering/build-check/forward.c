/* Compiled against the trace layer's include root: its own headers, its
 * internal header and the abi layer's build, so reverse.c fails for the
 * right reason. */
#include "hvlog/abi/eventlog.h"
#include "hvlog/trace/trace.h"
#include "hvlog/visibility.h"
#include "trace/trace_internal.h"
