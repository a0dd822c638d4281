// TESSERA_HOT marks the functions every page-table hcall runs (isa/ppc64/hcall_exit.cpp) and
// the few helpers every exit runs. GCC puts them in .text.hot.*, which the image's linker script
// places together at the start of its text.
//
// Why it matters under QEMU: every H_REMOVE ends with a tlbie, and QEMU's tlbie empties the
// whole software TLB and the jump cache. The next hcall (Linux's next H_ENTER) then refills one
// TLB entry per page of code and data it touches and looks each indirect branch target up in
// QEMU's translation hash table again. Spread over the image, an H_ENTER ran code on 11 pages;
// together, on a few. Natively Linux writes its own hash table and pays only its own refills.
#pragma once

#define TESSERA_HOT [[gnu::hot]]
