# Every dependency is a Debian 12 package (see scripts/setup.sh and ../shared/reference/toolchain.md).
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)                      # header-only parts: random, math
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(yaml-cpp REQUIRED)
if(TARGET yaml-cpp AND NOT TARGET yaml-cpp::yaml-cpp)  # Debian's 0.7.0 exports plain `yaml-cpp`
  add_library(yaml-cpp::yaml-cpp ALIAS yaml-cpp)
endif()
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(fmt REQUIRED)
find_package(GTest REQUIRED)
include(GoogleTest)
find_package(benchmark REQUIRED)

if(SERVETWIN_WITH_LIVE)
  find_package(Protobuf REQUIRED)                      # MODULE mode: Debian ships no protobuf CMake config
  find_package(gRPC CONFIG REQUIRED)
endif()
