# tradepipe_unit_test(<name> SOURCES ... LIBS ...)
# One GoogleTest executable per library, registered with ctest under the `unit` label.
function(tradepipe_unit_test name)
  if(NOT TRADEPIPE_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest_main tradepipe_warnings tradepipe_sanitizers)
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 30)
endfunction()

# tradepipe_integration_test(<name> SOURCES ... LIBS ...)
# A GoogleTest executable against real servers (tests/support starts them), under `integration`.
function(tradepipe_integration_test name)
  if(NOT TRADEPIPE_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest_main tradepipe_warnings tradepipe_sanitizers)
  gtest_discover_tests(${name} PROPERTIES LABELS integration DISCOVERY_TIMEOUT 30)
endfunction()

# tradepipe_target_defaults(<target>): warnings and sanitizers, PRIVATE.
function(tradepipe_target_defaults target)
  target_link_libraries(${target} PRIVATE tradepipe_warnings tradepipe_sanitizers)
endfunction()
