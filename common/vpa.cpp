#include "common/vpa.hpp"

#include "common/lpar.hpp"

namespace tessera::vpa {

void count_dispatch(Vcpu& v) {
    if (v.vpa == 0) return;
    // H_REGISTER_VPA checked that the area lies inside the LPAR; a guest cannot move it since.
    u8 b[4];
    const LogicalAddr at(v.vpa + kYieldCountOffset);
    if (!v.lpar->memory.copy_out(b, at, 4)) return;
    const u32 count = (u32{b[0]} << 24 | u32{b[1]} << 16 | u32{b[2]} << 8 | b[3]) + 1;
    const u8 out[4] = {static_cast<u8>(count >> 24), static_cast<u8>(count >> 16),
                       static_cast<u8>(count >> 8), static_cast<u8>(count)};
    v.lpar->memory.copy_in(at, out, 4);
}

} // namespace tessera::vpa
