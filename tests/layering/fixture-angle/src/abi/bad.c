/* A reverse dependency written with angle brackets: check-layers reads
 * <...> includes as well as "..." ones. */
#include <hvlog/engine/engine.h>
