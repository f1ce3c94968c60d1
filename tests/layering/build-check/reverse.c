/* Compiled against the trace layer's include root: the export layer is
 * above it, so this must not build (tests/layering/CMakeLists.txt). */
#include "hvlog/export/ctf.h"
