# Finds every third-party dependency from Debian's packages (scripts/apt-packages.txt).
# Nothing is downloaded or vendored. LibTorch is found by cmake/AtelierTorch.cmake.

find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

find_package(absl CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_program(ATELIER_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
find_package(RocksDB CONFIG REQUIRED)
find_package(CURL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(JPEG REQUIRED)
find_package(PNG REQUIRED)
pkg_check_modules(WEBP REQUIRED IMPORTED_TARGET libwebp libwebpdemux)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)

# cpp-httplib (HTTP servers on loopback for tests and the demo's origin). Debian
# ships it compiled: the header declares, libcpp-httplib.so defines.
find_path(HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)
find_library(HTTPLIB_LIBRARY cpp-httplib REQUIRED)
add_library(atelier_httplib INTERFACE)
target_include_directories(atelier_httplib SYSTEM INTERFACE "${HTTPLIB_INCLUDE_DIR}")
target_link_libraries(atelier_httplib INTERFACE "${HTTPLIB_LIBRARY}" Threads::Threads)

if(ATELIER_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()

if(ATELIER_BUILD_TRAINER)
  include(AtelierTorch)
endif()
