// The ppc64 exit reasons counted per LPAR (common/exit_counts.hpp), printed when it ends:
// `lpar linux: exits 123: hdec 4 ext 2 H_ENTER 50 H_PUT_TERM_CHAR 60 ...`. The interrupts that
// bring the hypervisor back from a guest, and every hcall by kind (the frequent ones by name,
// the rest as `hcall`).
#pragma once

#include <tessera/hcall.hpp>

#include "common/exit_counts.hpp"
#include "common/lpar.hpp"

namespace tessera::arch {

enum class Exit : u8 {
    Hdec,        // hdec: the hypervisor decrementer (the end of a time slice)
    External,    // ext: an external interrupt (a kick, another CPU's IPI) or LPCR[MER]
                 // (QEMU's TCG never raises one for MER: see MerPoll)
    Maintenance, // hmaint: hypervisor maintenance
    Hdsi,        // hdsi: a real-mode access outside the LPAR
    Hisi,        // hisi
    Emulation,   // hemu: an illegal instruction or SPR (reflected as a program interrupt)
    Facility,    // hfu: a facility HFSCR keeps off (reflected)
    Other,       // other: an interrupt no handler expects (the LPAR is stopped)
    MerPoll,     // merpoll: HDEC capped while an interrupt waited for MSR[EE] (mer.hpp)
    HcallOther,  // hcall: an hcall without a slot of its own below
    FirstHcall,  // the named hcalls (kHcallSlots), in that order
};

// The hcalls counted by name, in slot order from Exit::FirstHcall.
struct HcallSlot {
    u64 number;
    const char* name;
};
// clang-format off
inline constexpr HcallSlot kHcallSlots[] = {
    {hcall::H_REMOVE, "H_REMOVE"},
    {hcall::H_ENTER, "H_ENTER"},
    {hcall::H_READ, "H_READ"},
    {hcall::H_CLEAR_MOD, "H_CLEAR_MOD"},
    {hcall::H_CLEAR_REF, "H_CLEAR_REF"},
    {hcall::H_PROTECT, "H_PROTECT"},
    {hcall::H_BULK_REMOVE, "H_BULK_REMOVE"},
    {hcall::H_GET_TCE, "H_GET_TCE"},
    {hcall::H_PUT_TCE, "H_PUT_TCE"},
    {hcall::H_STUFF_TCE, "H_STUFF_TCE"},
    {hcall::H_PUT_TCE_INDIRECT, "H_PUT_TCE_INDIRECT"},
    {hcall::H_PAGE_INIT, "H_PAGE_INIT"},
    {hcall::H_GET_TERM_CHAR, "H_GET_TERM_CHAR"},
    {hcall::H_PUT_TERM_CHAR, "H_PUT_TERM_CHAR"},
    {hcall::H_EOI, "H_EOI"},
    {hcall::H_CPPR, "H_CPPR"},
    {hcall::H_IPI, "H_IPI"},
    {hcall::H_IPOLL, "H_IPOLL"},
    {hcall::H_XIRR, "H_XIRR"},
    {hcall::H_XIRR_X, "H_XIRR_X"},
    {hcall::H_REGISTER_VPA, "H_REGISTER_VPA"},
    {hcall::H_CEDE, "H_CEDE"},
    {hcall::H_CONFER, "H_CONFER"},
    {hcall::H_PROD, "H_PROD"},
    {hcall::H_SET_MODE, "H_SET_MODE"},
    {hcall::H_RTAS, "H_RTAS"},
    {hcall::H_SEND_LOGICAL_LAN, "H_SEND_LOGICAL_LAN"},
    {hcall::H_ADD_LOGICAL_LAN_BUFFER, "H_ADD_LOGICAL_LAN_BUFFER"},
    {hcall::H_SEND_CRQ, "H_SEND_CRQ"},
    {hcall::H_COPY_RDMA, "H_COPY_RDMA"},
    {hcall::H_GET_CPU_CHARACTERISTICS, "H_GET_CPU_CHARACTERISTICS"},
    {hcall::H_RANDOM, "H_RANDOM"},
};
// clang-format on
inline constexpr usize kHcallSlotCount = sizeof(kHcallSlots) / sizeof(kHcallSlots[0]);
// Counted, not exits, after the hcalls: `tlbie`, the page-table hcalls' TLB invalidations that
// had to be broadcast (another CPU ran one of the LPAR's vcpus; under QEMU 7.2 each kicks every
// other vCPU out of its translated code to empty its software TLB), against the local ones
// (tlbiel), which are not counted.
inline constexpr usize kReasonTlbieBroadcast =
    static_cast<usize>(Exit::FirstHcall) + kHcallSlotCount;
static_assert(kReasonTlbieBroadcast < kExitReasons);

extern const char* const (&kExitNames)[kExitReasons];

namespace detail {
constexpr usize hcall_reason_search(u64 opcode) {
    for (usize i = 0; i < kHcallSlotCount; ++i) {
        if (kHcallSlots[i].number == opcode) return static_cast<usize>(Exit::FirstHcall) + i;
    }
    return static_cast<usize>(Exit::HcallOther);
}
// The reasons of the architected numbers (multiples of 4 up to H_MAX_ARCHITECTED) by number / 4:
// counting an exit is one load, not a search (every hcall is counted).
struct ArchitectedReasons {
    u8 reason[hcall::H_MAX_ARCHITECTED / 4 + 1];
};
consteval ArchitectedReasons make_architected_reasons() {
    ArchitectedReasons t{};
    for (usize i = 0; i < sizeof(t.reason); ++i)
        t.reason[i] = static_cast<u8>(hcall_reason_search(i * 4));
    return t;
}
inline constexpr ArchitectedReasons kArchitectedReasons = make_architected_reasons();
static_assert(static_cast<usize>(Exit::FirstHcall) + kHcallSlotCount <= 0xff);
} // namespace detail

// The reason an hcall with this number is counted under.
constexpr usize hcall_reason(u64 opcode) {
    if (opcode <= hcall::H_MAX_ARCHITECTED && opcode % 4 == 0)
        return detail::kArchitectedReasons.reason[opcode / 4];
    return detail::hcall_reason_search(opcode);
}
static_assert(hcall_reason(hcall::H_ENTER) == detail::hcall_reason_search(hcall::H_ENTER) &&
              hcall_reason(hcall::H_RANDOM) == detail::hcall_reason_search(hcall::H_RANDOM) &&
              hcall_reason(0x8) != hcall_reason(0x4));

// Lock: the core lock (every exit is handled under it, isa/ppc64/run.cpp).
inline void count(Vcpu& v, usize reason) {
    ExitCounts& c = v.lpar->arch.exits;
    ++c.exits;
    c.add(reason);
}
inline void count(Vcpu& v, Exit e) {
    count(v, static_cast<usize>(e));
}

} // namespace tessera::arch
