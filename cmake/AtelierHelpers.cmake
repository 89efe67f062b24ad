# Small helpers shared by every folder's CMakeLists.txt.

# atelier_warnings(TARGET): the project's warning flags, PRIVATE to TARGET.
# atelier_warnings(TARGET): the project's warning flags; with
# -DATELIER_WERROR=ON (scripts/test.sh, so CI) every warning is an error.
function(atelier_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  if(ATELIER_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# atelier_test(NAME SOURCES... LIBS ...): a GoogleTest executable registered
# with gtest_discover_tests. Tests run with the build dir as working directory
# and ATELIER_BIN_DIR pointing at the built executables.
function(atelier_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} atelier_testing GTest::gtest GTest::gmock GTest::gtest_main)
  atelier_warnings(${name})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  # One ENVIRONMENT entry only: a ';' inside PROPERTIES would split the
  # property/value pairs. The source dir reaches tests as a compile definition
  # of atelier_test_support (atelier::testing::SourcePath).
  set(props ENVIRONMENT "ATELIER_BIN_DIR=${ATELIER_RUNTIME_DIR}" TIMEOUT ${T_TIMEOUT})
  if(T_LABELS)
    list(APPEND props LABELS ${T_LABELS})
  endif()
  gtest_discover_tests(${name}
    WORKING_DIRECTORY "${CMAKE_BINARY_DIR}"
    PROPERTIES ${props}
    DISCOVERY_TIMEOUT 60)
endfunction()
