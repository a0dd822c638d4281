# Freestanding hypervisor image for one ISA + platform (TESSERA_ISA, TESSERA_PLAT).

set(TESSERA_FREESTANDING
  -ffreestanding -fno-exceptions -fno-rtti -fno-use-cxa-atexit -fno-threadsafe-statics
  -fno-asynchronous-unwind-tables -fno-stack-protector -fno-builtin-printf
  -ffunction-sections -fdata-sections -fno-strict-aliasing
  -fno-tree-loop-distribute-patterns # keep mem*() loops from becoming calls to mem*()
  -fno-delete-null-pointer-checks)   # real address 0 is memory (ppc64 vectors)
set(TESSERA_FREESTANDING_CXX -nostdinc++)

if(TESSERA_ISA STREQUAL "ppc64")
  # The hypervisor never touches FP/vector state: those registers belong to the guest.
  set(TESSERA_ISA_FLAGS -mcpu=power8 -mlittle-endian -mabi=elfv2 -msoft-float -mno-altivec
                        -mno-vsx -mcmodel=medium -fno-pic -fno-pie)
  set(TESSERA_ISA_LINK -Wl,-z,max-page-size=0x10000 -Wl,--no-warn-rwx-segments)
elseif(TESSERA_ISA STREQUAL "ia32")
  set(TESSERA_ISA_FLAGS -m32 -march=i686 -mgeneral-regs-only -fno-pic -fno-pie)
  set(TESSERA_ISA_LINK -Wl,-m,elf_i386 -Wl,-z,max-page-size=0x1000 -Wl,--no-warn-rwx-segments)
endif()

# libfdt: Debian's multiarch libfdt-dev for the image's architecture, unpacked by scripts/setup
# (scripts/lib/foreign-debs) into a private sysroot; see docs/architecture.md.
if(NOT DEFINED TESSERA_CACHE_DIR)
  if(DEFINED ENV{TESSERA_CACHE})
    set(TESSERA_CACHE_DIR $ENV{TESSERA_CACHE})
  else()
    set(TESSERA_CACHE_DIR ${CMAKE_SOURCE_DIR}/.cache)
  endif()
endif()
set(TESSERA_SYSROOT ${TESSERA_CACHE_DIR}/sysroot-${TESSERA_DEBIAN_ARCH})
set(TESSERA_LIBFDT ${TESSERA_SYSROOT}/usr/lib/${TESSERA_MULTIARCH}/libfdt.a)
if(NOT EXISTS ${TESSERA_LIBFDT})
  message(FATAL_ERROR "libfdt for ${TESSERA_DEBIAN_ARCH} not found at ${TESSERA_LIBFDT}: "
                      "run scripts/setup (it downloads libfdt-dev:${TESSERA_DEBIAN_ARCH})")
endif()

file(GLOB_RECURSE TESSERA_ARCH_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/isa/${TESSERA_ISA}/*.cpp ${CMAKE_SOURCE_DIR}/isa/${TESSERA_ISA}/*.S
  ${CMAKE_SOURCE_DIR}/plat/${TESSERA_PLAT}/*.cpp ${CMAKE_SOURCE_DIR}/plat/${TESSERA_PLAT}/*.S
  ${CMAKE_SOURCE_DIR}/common/rt/abi/*.cpp)

set(TESSERA_LDS ${CMAKE_SOURCE_DIR}/plat/${TESSERA_PLAT}/image.lds)
add_executable(tessera.elf ${TESSERA_CORE_SOURCES} ${TESSERA_ARCH_SOURCES})
target_include_directories(tessera.elf PRIVATE
  ${CMAKE_SOURCE_DIR}/isa/${TESSERA_ISA}/include   # <arch/...>: this ISA's side of the contract
  ${CMAKE_SOURCE_DIR}/plat/${TESSERA_PLAT}/include # <plat/...>: this platform's constants
  ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR})
target_include_directories(tessera.elf SYSTEM PRIVATE ${TESSERA_SYSROOT}/usr/include)
target_compile_definitions(tessera.elf PRIVATE TESSERA_FREESTANDING=1
  TESSERA_TARGET_NAME="${TESSERA_TARGET}" TESSERA_ISA_${TESSERA_ISA}=1)
# Link-time optimisation: the compiler inlines across files (an exit's small helpers live in
# many). Under QEMU every function's return is an indirect branch, looked up again after each
# TLB flush, and on pc every exit flushes: one pc exit costs 15 % less with it (docs/benchmarks.md,
# "Whole-image inlining"). The link step generates the code, so it gets the same flags.
target_compile_options(tessera.elf PRIVATE ${TESSERA_WARNINGS} ${TESSERA_FREESTANDING}
  ${TESSERA_ISA_FLAGS} $<$<COMPILE_LANGUAGE:CXX>:${TESSERA_FREESTANDING_CXX}> -O2 -g -flto)
target_link_options(tessera.elf PRIVATE -nostdlib -static -no-pie -Wl,--gc-sections
  -Wl,--build-id=none -T ${TESSERA_LDS} ${TESSERA_ISA_LINK} ${TESSERA_ISA_FLAGS}
  ${TESSERA_FREESTANDING} ${TESSERA_WARNINGS} -O2 -g -flto=auto)
target_link_libraries(tessera.elf PRIVATE ${TESSERA_LIBFDT} gcc)
set_target_properties(tessera.elf PROPERTIES LINK_DEPENDS ${TESSERA_LDS})

# Check the image's layout after linking (load address, multiboot header, ...).
if(EXISTS ${CMAKE_SOURCE_DIR}/scripts/check-image)
  add_custom_command(TARGET tessera.elf POST_BUILD
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/check-image ${TESSERA_TARGET} $<TARGET_FILE:tessera.elf>
    VERBATIM)
endif()

# The test LPARs (tests/lpar) for this ISA: flat binaries in ${CMAKE_BINARY_DIR}/lpars/.
if(EXISTS ${CMAKE_SOURCE_DIR}/tests/lpar/CMakeLists.txt)
  add_subdirectory(${CMAKE_SOURCE_DIR}/tests/lpar ${CMAKE_BINARY_DIR}/lpars)
endif()
