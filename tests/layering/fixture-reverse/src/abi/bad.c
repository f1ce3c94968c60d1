/* A reverse dependency: the abi layer reaching up into the engine. */
#include "hvlog/engine/engine.h"
