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

# atelier_fuzzer(NAME SOURCES... LIBS ...): the libFuzzer entry point
# LLVMFuzzerTestOneInput in SOURCES, with its seed corpus in
# <folder>/corpus/NAME/ (docs/fuzzing.md). With -DATELIER_FUZZ=ON (clang) it
# is the fuzzer NAME_fuzzer in <build>/fuzz/; otherwise, with the tests, a
# plain executable NAME_replay that runs every corpus file once
# (tests/support/fuzz_replay_main.cc). Either way the CTest
# fuzz.NAME.corpus_replay runs the corpus through it.
function(atelier_fuzzer name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  set(corpus "${CMAKE_CURRENT_SOURCE_DIR}/corpus/${name}")
  if(NOT IS_DIRECTORY "${corpus}")
    message(FATAL_ERROR "fuzzer ${name}: no seed corpus ${corpus}")
  endif()
  if(ATELIER_FUZZ)
    set(exe ${name}_fuzzer)
    add_executable(${exe} ${F_SOURCES})
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
    set(replay ${exe} -runs=0 "${corpus}")
    set_property(GLOBAL APPEND PROPERTY ATELIER_FUZZERS "${name} ${corpus}")
  elseif(ATELIER_BUILD_TESTS)
    set(exe ${name}_replay)
    add_executable(${exe} ${F_SOURCES})
    target_link_libraries(${exe} PRIVATE atelier_fuzz_replay)
    set(replay ${exe} "${corpus}")
  else()
    return()
  endif()
  target_link_libraries(${exe} PRIVATE ${F_LIBS})
  atelier_warnings(${exe})
  set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/fuzz")
  if(ATELIER_BUILD_TESTS)
    add_test(NAME fuzz.${name}.corpus_replay COMMAND ${replay})
    set_tests_properties(fuzz.${name}.corpus_replay PROPERTIES LABELS fuzz TIMEOUT 300)
  endif()
endfunction()
