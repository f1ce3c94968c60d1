# What `cmake --install` puts beside the programs and libraries (issue 18):
# the man pages, built from docs/man/*.scd by scdoc, and the bash completion
# (completion/hvlog.bash, which reads the commands and options from the
# installed program itself; tests/cli/completion.py keeps them honest).
#
# Without scdoc the configure stops and says so, rather than install a
# package with no man pages; -DHVLOG_MAN=OFF builds without them, on purpose.
option(HVLOG_MAN "Build and install the man pages (needs scdoc)" ON)
if(HVLOG_MAN)
  find_program(HVLOG_SCDOC scdoc)
  if(NOT HVLOG_SCDOC)
    message(FATAL_ERROR
      "hvlog: scdoc not found: the man pages (docs/man/*.scd) cannot be built, so "
      "`cmake --install` would install none. Install scdoc (Debian: scdoc; scripts/deps "
      "does), or configure with -DHVLOG_MAN=OFF to build and install without man pages.")
  endif()
  file(GLOB hvlog_man_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/*.scd)
  set(hvlog_man_pages "")
  foreach(src ${hvlog_man_sources})
    get_filename_component(page ${src} NAME_WLE) # hvlog-record.1
    string(REGEX REPLACE "^.*\\.([1-9])$" "\\1" section ${page})
    set(out ${PROJECT_BINARY_DIR}/man/${page})
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
      COMMAND sh -c "\"$0\" < \"$1\" > \"$2\"" ${HVLOG_SCDOC} ${src} ${out}
      DEPENDS ${src} COMMENT "scdoc ${page}" VERBATIM)
    list(APPEND hvlog_man_pages ${out})
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(hvlog_man ALL DEPENDS ${hvlog_man_pages})
  message(STATUS "hvlog: man pages: built with ${HVLOG_SCDOC}, installed to ${CMAKE_INSTALL_MANDIR}")
else()
  message(STATUS "hvlog: man pages: off (HVLOG_MAN=OFF): neither built nor installed")
endif()

install(FILES ${PROJECT_SOURCE_DIR}/completion/hvlog.bash
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME hvlog)
