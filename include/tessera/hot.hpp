// TESSERA_HOT marks the functions every page-table hcall runs (isa/ppc64/hcall_exit.cpp), on pc
// what a usual exit runs (the run loop, the shadow fill, reflection, the virtual timer and
// interrupt words, the tables loaded at each entry), and the few helpers every exit runs. GCC
// puts them in .text.hot.*, which each image's linker script places together at the start of
// its text.
//
// Why it matters under QEMU: every H_REMOVE ends with a tlbie, and QEMU's tlbie empties the
// whole software TLB and the jump cache. The next hcall (Linux's next H_ENTER) then refills one
// TLB entry per page of code and data it touches and looks each indirect branch target up in
// QEMU's translation hash table again. Spread over the image, an H_ENTER ran code on 11 pages;
// together, on a few. Natively Linux writes its own hash table and pays only its own refills.
// On pc every exit loads cr3 twice, each load empties QEMU's TLB: a usual exit ran code on 17
// pages, 12 with the hot ones together (docs/benchmarks.md, "Whole-image inlining").
#pragma once

#define TESSERA_HOT [[gnu::hot]]
