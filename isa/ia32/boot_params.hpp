// The parts of Linux's x86 boot protocol ("zero page", Documentation/x86/boot.rst) that the ia32
// loader fills: struct boot_params is 4 KiB; these are its fields' offsets.
#pragma once

#include <tessera/types.hpp>

namespace tessera::arch::bootp {

inline constexpr usize kSize = 4096;
inline constexpr usize kE820Entries = 0x1e8;     // u8
inline constexpr usize kBootFlag = 0x1fe;        // u16 0xaa55
inline constexpr usize kHeaderMagic = 0x202;     // u32 "HdrS"
inline constexpr usize kVersion = 0x206;         // u16
inline constexpr usize kTypeOfLoader = 0x210;    // u8
inline constexpr usize kLoadFlags = 0x211;       // u8
inline constexpr usize kRamdiskImage = 0x218;    // u32
inline constexpr usize kRamdiskSize = 0x21c;     // u32
inline constexpr usize kCmdLinePtr = 0x228;      // u32
inline constexpr usize kInitrdAddrMax = 0x22c;   // u32
inline constexpr usize kCmdlineSize = 0x238;     // u32
inline constexpr usize kHardwareSubarch = 0x23c; // u32 (0: a PC)
inline constexpr usize kSetupData = 0x250;       // u64: the first struct setup_data, 0 = none
inline constexpr usize kE820Table = 0x2d0;       // up to 128 x {u64 addr, u64 size, u32 type}
inline constexpr u32 kE820Ram = 1, kE820Reserved = 2;
// struct setup_data: u64 next, u32 type, u32 len, then len bytes.
inline constexpr usize kSetupDataHeader = 16;
inline constexpr u32 kSetupDtb = 2; // SETUP_DTB: a flattened device tree

inline constexpr u32 kHdrS = 0x53726448;
inline constexpr u16 kProtocol = 0x020f;
inline constexpr u8 kLoadedHigh = 0x01, kKeepSegments = 0x40;

} // namespace tessera::arch::bootp
