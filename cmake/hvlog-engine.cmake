# libhvlog-engine: the abi and engine layers alone, as a hypervisor links
# them (docs/embedding.md). The same sources as libhvlog's abi and engine
# layers, compiled again freestanding: no libc, no libgcc, no SSE/FPU, no
# red zone (interrupt handlers share the stack). What the objects may still
# need from the embedder is memcpy, memset, memmove and memcmp, which
# tests/engine/check-engine-symbols.sh checks with nm.
#
# Not built with sanitizers (they need their runtime); the hosted libhvlog
# carries the same code for the sanitized test builds.
set(HVLOG_ENGINE_LIB_SOURCES
  src/abi/names.c src/abi/hypercall.c
  src/engine/engine.c src/engine/dispatch.c src/engine/calls.c src/engine/state.c
  src/engine/log.c src/engine/notify.c src/engine/spinlock.c src/engine/check.c)
# -U_FORTIFY_SOURCE: distributions build with -D_FORTIFY_SOURCE=2 in their
# default flags (Debian's dpkg-buildflags), which turns memset into
# __memset_chk, a libc symbol no hypervisor has (tests/package checks nm).
set(HVLOG_FREESTANDING_FLAGS
  -ffreestanding -fno-builtin -nostdlib -fno-stack-protector -fno-common -U_FORTIFY_SOURCE)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  list(APPEND HVLOG_FREESTANDING_FLAGS -mno-red-zone -mgeneral-regs-only)
endif()

add_library(hvlog_engine_freestanding OBJECT ${HVLOG_ENGINE_LIB_SOURCES})
target_include_directories(hvlog_engine_freestanding
  PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
target_compile_definitions(hvlog_engine_freestanding PRIVATE HVLOG_BUILDING_SHARED)
target_compile_options(hvlog_engine_freestanding PRIVATE ${HVLOG_FREESTANDING_FLAGS}
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wundef -Wpointer-arith
  $<$<BOOL:${HVLOG_WERROR}>:-Werror>)
set_target_properties(hvlog_engine_freestanding PROPERTIES
  POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)

add_library(libhvlog_engine SHARED $<TARGET_OBJECTS:hvlog_engine_freestanding>)
add_library(libhvlog_engine_static STATIC $<TARGET_OBJECTS:hvlog_engine_freestanding>)
foreach(t libhvlog_engine libhvlog_engine_static)
  target_include_directories(${t} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()
# -nostdlib: no crt files, no libc, no libgcc. memcpy and friends stay
# undefined, for the embedder (or the dynamic loader's libc) to supply.
target_link_options(libhvlog_engine PRIVATE -nostdlib)
set_target_properties(libhvlog_engine PROPERTIES OUTPUT_NAME hvlog-engine EXPORT_NAME engine
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
set_target_properties(libhvlog_engine_static PROPERTIES OUTPUT_NAME hvlog-engine
  EXPORT_NAME engine_static)
add_library(hvlog::engine ALIAS libhvlog_engine)
add_library(hvlog::engine_static ALIAS libhvlog_engine_static)

install(TARGETS libhvlog_engine libhvlog_engine_static EXPORT hvlogTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/hvlog-engine.pc.in
  ${PROJECT_BINARY_DIR}/hvlog-engine.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/hvlog-engine.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
