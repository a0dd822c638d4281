# Fuzz build (preset `fuzz`, clang): the core compiled hosted as in cmake/host.cmake, instrumented
# for libFuzzer, and one libFuzzer binary per harness in tests/fuzz/ (scripts/fuzz runs them).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "the fuzz build needs clang (libFuzzer): cmake --preset fuzz")
endif()

set(TESSERA_FUZZ_SANITIZE -fsanitize=address,undefined -fno-sanitize-recover=all
                          -fno-omit-frame-pointer)

# tessera_fuzz_core(NAME ARCH_INCLUDE [EXTRA_SOURCES...]): the core sources, as the host build
# compiles them, against one flavour of <arch/...> headers, with coverage instrumentation.
function(tessera_fuzz_core name arch_include)
  add_library(${name} STATIC ${TESSERA_CORE_SOURCES} ${TESSERA_HOSTED_ONLY_SOURCES}
                             ${CMAKE_SOURCE_DIR}/tests/fake/plat_fake.cpp ${ARGN})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}
                                            ${arch_include})
  target_compile_options(${name} PUBLIC ${TESSERA_WARNINGS} -fno-rtti -g -O1
                                        ${TESSERA_FUZZ_SANITIZE})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer-no-link)
  target_link_libraries(${name} PUBLIC fdt)
endfunction()

# tessera_fuzzer(NAME CORE): tests/fuzz/NAME.cpp linked with libFuzzer's main.
function(tessera_fuzzer name core)
  add_executable(fuzz_${name} ${CMAKE_SOURCE_DIR}/tests/fuzz/${name}.cpp)
  target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer ${TESSERA_FUZZ_SANITIZE})
  target_link_libraries(fuzz_${name} PRIVATE ${core})
  set_target_properties(fuzz_${name} PROPERTIES OUTPUT_NAME ${name})
endfunction()

function(tessera_isa_files isa out)
  file(STRINGS ${CMAKE_SOURCE_DIR}/isa/${isa}/hosted.txt files REGEX "^[^#]")
  list(TRANSFORM files PREPEND ${CMAKE_SOURCE_DIR}/isa/${isa}/)
  set(${out} ${files} PARENT_SCOPE)
endfunction()

tessera_fuzz_core(tessera_fuzz_core ${CMAKE_SOURCE_DIR}/tests/fake/include
                  ${CMAKE_SOURCE_DIR}/tests/fake/arch_fake.cpp)
tessera_isa_files(ia32 ia32_files)
tessera_fuzz_core(tessera_fuzz_core_ia32 ${CMAKE_SOURCE_DIR}/isa/ia32/include ${ia32_files}
                  ${CMAKE_SOURCE_DIR}/tests/unit/ia32/host_hooks.cpp)
tessera_isa_files(ppc64 ppc64_files)
tessera_fuzz_core(tessera_fuzz_core_ppc64 ${CMAKE_SOURCE_DIR}/isa/ppc64/include ${ppc64_files}
                  ${CMAKE_SOURCE_DIR}/tests/unit/ppc64/host_hooks.cpp)

# One binary per harness, tests/fuzz/NAME.cpp -> build/fuzz/NAME; ia32_* and ppc64_* harnesses get
# that ISA's core, the others the ISA-neutral core over the fake ISA.
file(GLOB TESSERA_FUZZERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/*.cpp)
foreach(src ${TESSERA_FUZZERS})
  get_filename_component(h ${src} NAME_WE)
  if(h MATCHES "^ia32_")
    tessera_fuzzer(${h} tessera_fuzz_core_ia32)
  elseif(h MATCHES "^ppc64_")
    tessera_fuzzer(${h} tessera_fuzz_core_ppc64)
  else()
    tessera_fuzzer(${h} tessera_fuzz_core)
  endif()
endforeach()
