// Little-endian loads and stores of byte strings (file formats, firmware tables), whatever the
// CPU's own byte order and the bytes' alignment.
#pragma once

#include <tessera/types.hpp>

namespace tessera {

inline u16 load_le16(const u8* p) {
    return static_cast<u16>(p[0] | p[1] << 8);
}
inline u32 load_le32(const u8* p) {
    return u32{p[0]} | u32{p[1]} << 8 | u32{p[2]} << 16 | u32{p[3]} << 24;
}
inline u64 load_le64(const u8* p) {
    return u64{load_le32(p)} | u64{load_le32(p + 4)} << 32;
}
inline void store_le32(u8* p, u32 v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<u8>(v >> (8 * i));
}
inline void store_le64(u8* p, u64 v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<u8>(v >> (8 * i));
}

} // namespace tessera
