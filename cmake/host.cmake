# Host build: the core as a hosted static library, its unit tests and the bundle packer.
enable_testing()

set(TESSERA_SANITIZE "-fsanitize=address,undefined" "-fno-sanitize-recover=all" "-fno-omit-frame-pointer")
option(TESSERA_SANITIZERS "Build host code with ASan/UBSan" ON)
# The tsan preset: ThreadSanitizer instead, for the unit tests that run the core on threads.
option(TESSERA_TSAN "ThreadSanitizer build of the multi-threaded unit tests only" OFF)
if(TESSERA_TSAN)
  # -Wno-tsan: TSan cannot see the fences that order guest-visible memory (crq.cpp); harmless here.
  set(TESSERA_SANITIZE "-fsanitize=thread" "-fno-omit-frame-pointer" "-Wno-tsan")
endif()
find_path(DOCTEST_INCLUDE doctest/doctest.h REQUIRED)

# tessera_core_lib(NAME ARCH_INCLUDE [EXTRA_SOURCES...]): the core compiled hosted against one
# flavour of <arch/...> headers: tests/fake/include for the ISA-neutral tests, or an ISA's own
# include directory for the host tests of that ISA's pure logic (e.g. the ppc64 HTAB). Each
# flavour is its own library because Lpar/Vcpu embed the ISA's state by value.
function(tessera_core_lib name arch_include)
  add_library(${name} STATIC ${TESSERA_CORE_SOURCES} ${TESSERA_HOSTED_ONLY_SOURCES} ${ARGN})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}
                                            ${arch_include})
  target_compile_options(${name} PUBLIC ${TESSERA_WARNINGS} -fno-rtti)
  target_link_libraries(${name} PUBLIC fdt) # Debian's libfdt-dev, as the images use it
  if(TESSERA_SANITIZERS AND NOT name MATCHES "_tool$")
    target_compile_options(${name} PUBLIC ${TESSERA_SANITIZE})
    target_link_options(${name} PUBLIC ${TESSERA_SANITIZE})
  endif()
endfunction()

# tessera_unit_tests(NAME CORE_LIB SOURCES...): one doctest binary registered with ctest.
function(tessera_unit_tests name core)
  add_executable(${name} ${CMAKE_SOURCE_DIR}/tests/unit/main.cpp
                         ${CMAKE_SOURCE_DIR}/tests/fake/plat_fake.cpp ${ARGN})
  target_include_directories(${name} SYSTEM PRIVATE ${DOCTEST_INCLUDE})
  target_link_libraries(${name} PRIVATE ${core})
  add_test(NAME ${name} COMMAND ${name} --no-intro=true)
  set_tests_properties(${name} PROPERTIES LABELS unit)
endfunction()

tessera_core_lib(tessera_core ${CMAKE_SOURCE_DIR}/tests/fake/include)
if(TESSERA_TSAN)
  # The tests whose cases use threads (their names say "threads" or "two CPUs").
  tessera_unit_tests(unit_tests_tsan tessera_core
                     ${CMAKE_SOURCE_DIR}/tests/unit/chunks_test.cpp
                     ${CMAKE_SOURCE_DIR}/tests/unit/spinlock_test.cpp
                     ${CMAKE_SOURCE_DIR}/tests/unit/sched_test.cpp
                     ${CMAKE_SOURCE_DIR}/tests/unit/run_test.cpp
                     ${CMAKE_SOURCE_DIR}/tests/fake/arch_fake.cpp)
  return()
endif()
file(GLOB TESSERA_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/*_test.cpp)
tessera_unit_tests(unit_tests tessera_core ${TESSERA_UNIT_TESTS}
                   ${CMAKE_SOURCE_DIR}/tests/fake/arch_fake.cpp)

# tessera_hosted_files(DIR OUT): the files DIR/hosted.txt lists (pure logic of an ISA or a
# platform, also built for host unit tests), with their paths; OUT is empty without the list.
function(tessera_hosted_files dir out)
  set(files "")
  if(EXISTS ${dir}/hosted.txt)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${dir}/hosted.txt)
    file(STRINGS ${dir}/hosted.txt files REGEX "^[^#]")
    list(TRANSFORM files PREPEND ${dir}/)
  endif()
  set(${out} ${files} PARENT_SCOPE)
endfunction()

# Per-ISA logic that is pure enough to test on the host: isa/<isa>/hosted.txt lists its files.
foreach(isa ppc64 ia32)
  tessera_hosted_files(${CMAKE_SOURCE_DIR}/isa/${isa} files)
  file(GLOB isa_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/${isa}/*.cpp)
  if(files AND isa_tests)
    tessera_core_lib(tessera_core_${isa} ${CMAKE_SOURCE_DIR}/isa/${isa}/include ${files})
    tessera_unit_tests(unit_tests_${isa} tessera_core_${isa} ${isa_tests})
  endif()
endforeach()

# Platform logic that is pure enough to test on the host and needs nothing of the core (the pc's
# ACPI tables): plat/<plat>/hosted.txt lists its files, tests/unit/<plat>/ holds the tests.
foreach(plat pc powernv)
  tessera_hosted_files(${CMAKE_SOURCE_DIR}/plat/${plat} files)
  file(GLOB plat_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/${plat}/*.cpp)
  if(files AND plat_tests)
    add_executable(unit_tests_${plat} ${CMAKE_SOURCE_DIR}/tests/unit/main.cpp ${files} ${plat_tests})
    target_include_directories(unit_tests_${plat} PRIVATE ${CMAKE_SOURCE_DIR}/include
                               ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/plat/${plat}/include)
    target_include_directories(unit_tests_${plat} SYSTEM PRIVATE ${DOCTEST_INCLUDE})
    target_compile_options(unit_tests_${plat} PRIVATE ${TESSERA_WARNINGS} -fno-rtti)
    if(TESSERA_SANITIZERS)
      target_compile_options(unit_tests_${plat} PRIVATE ${TESSERA_SANITIZE})
      target_link_options(unit_tests_${plat} PRIVATE ${TESSERA_SANITIZE})
    endif()
    add_test(NAME unit_tests_${plat} COMMAND unit_tests_${plat} --no-intro=true)
    set_tests_properties(unit_tests_${plat} PROPERTIES LABELS unit)
  endif()
endforeach()

# Host tools (scripts/pack): the bundle packer shares the format code with the hypervisor.
file(GLOB TESSERA_PACK_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/scripts/pack/*.cpp)
# Tools get an optimised core without sanitizers: packing a 50 MB kernel must take a second,
# not the 15 s it takes under ASan at -O0.
tessera_core_lib(tessera_core_tool ${CMAKE_SOURCE_DIR}/tests/fake/include)
target_compile_options(tessera_core_tool PUBLIC -O2)
add_executable(tessera-pack ${TESSERA_PACK_SOURCES})
target_link_libraries(tessera-pack PRIVATE tessera_core_tool)

# Integration tests that boot QEMU live in tests/integration and register themselves.
add_subdirectory(${CMAKE_SOURCE_DIR}/tests/integration ${CMAKE_BINARY_DIR}/integration)
