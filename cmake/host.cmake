# Host build: the core as a hosted static library, its unit tests and the bundle packer.
enable_testing()

set(TESSERA_SANITIZE "-fsanitize=address,undefined" "-fno-sanitize-recover=all" "-fno-omit-frame-pointer")
option(TESSERA_SANITIZERS "Build host code with ASan/UBSan" ON)

add_library(tessera_core STATIC ${TESSERA_CORE_SOURCES} ${TESSERA_HOSTED_ONLY_SOURCES})
target_include_directories(tessera_core PUBLIC
  ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}
  ${CMAKE_SOURCE_DIR}/tests/fake/include)   # the host's stand-in for an ISA's <arch/...> headers
target_compile_options(tessera_core PUBLIC ${TESSERA_WARNINGS} -fno-rtti)
if(TESSERA_SANITIZERS)
  target_compile_options(tessera_core PUBLIC ${TESSERA_SANITIZE})
  target_link_options(tessera_core PUBLIC ${TESSERA_SANITIZE})
endif()

find_path(DOCTEST_INCLUDE doctest/doctest.h REQUIRED)
file(GLOB TESSERA_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/*.cpp
     ${CMAKE_SOURCE_DIR}/tests/fake/*.cpp)
add_executable(unit_tests ${TESSERA_UNIT_TESTS})
target_include_directories(unit_tests SYSTEM PRIVATE ${DOCTEST_INCLUDE})
target_link_libraries(unit_tests PRIVATE tessera_core)
add_test(NAME unit COMMAND unit_tests --no-intro=true)
set_tests_properties(unit PROPERTIES LABELS unit)

# Host tools (scripts/pack): the bundle packer shares the format code with the hypervisor.
file(GLOB TESSERA_PACK_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/scripts/pack/*.cpp)
if(TESSERA_PACK_SOURCES)
  add_executable(tessera-pack ${TESSERA_PACK_SOURCES})
  target_link_libraries(tessera-pack PRIVATE tessera_core)
endif()

# Integration tests that boot QEMU live in tests/integration and register themselves.
if(EXISTS ${CMAKE_SOURCE_DIR}/tests/integration/CMakeLists.txt)
  add_subdirectory(${CMAKE_SOURCE_DIR}/tests/integration ${CMAKE_BINARY_DIR}/integration)
endif()
