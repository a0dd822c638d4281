// vscsi (1 vcpu, two LPARs: vscsis with `vscsi-server = disk0`, 32M, and vscsic with
// `vscsi = disk0`, 16M): the CRQ and H_COPY_RDMA hcalls from both sides of a partner pair, with
// bad arguments (wrong unit address, a LIOBN of another LPAR, lengths past the window, pages
// without access bits), then an exchange: init handshake, a "command" naming a buffer of the
// client, the server reading it and writing its answer through its remote window. Then the server
// crashes on purpose (expect = crash) and the client must see the transport event 0xFF01 and
// H_CLOSED, never a fault. The server's own check counts travel to the client in its last
// message, so they are counted. ISA-neutral: logical addresses are the program's own pointers.
#include "lpar.hpp"

using namespace lpar;
using namespace tessera::hcall;

namespace {

constexpr u64 kUa = 0x30000010; // the first v-scsi device; its LIOBN is the same number
constexpr u64 kLiobn = kUa;
constexpr u64 kRemote = 0x31000010;     // the server's remote LIOBN (kUa | 0x01000000)
constexpr u64 kOtherLiobn = 0x30000002; // an l-lan's LIOBN: lan1/lan2 have it, we do not
constexpr u64 kWindow = 256 * tessera::MiB;
constexpr u64 kPage = 4096;
constexpr u64 kRW = 3, kRead = 1, kWrite = 2;
// IOBAs (window page i = page i of `area`): the queue, a data page, a read-only page, a page
// left unmapped.
constexpr u64 kQueue = 0x0000, kData = 0x1000, kReadOnly = 0x2000, kUnmapped = 0x3000;
constexpr u64 kQueueBytes = 4096; // 256 entries
constexpr u64 kInit = 0xC001'0000'0000'0000, kInitDone = 0xC002'0000'0000'0000;
constexpr u64 kCommand = 0x8000'0000'0000'0000, kResponse = 0x8100'0000'0000'0000;
constexpr u64 kCounts = 0x8200'0000'0000'0000; // msg_lo: passed << 32 | failed
constexpr u64 kFailedEvent = 0xFF01'0000'0000'0000;

alignas(4096) u8 area[4 * 4096];
u64 next_entry = 0;

u64 la(const void* p) {
    return static_cast<u64>(reinterpret_cast<uintptr_t>(p));
}
u64 load_be(const volatile u8* p) {
    u64 v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
    return v;
}

// The next message in our queue (false if none); frees its entry.
bool receive(u64& hi, u64& lo) {
    volatile u8* e = area + kQueue + 16 * next_entry;
    if (e[0] == 0) return false;
    hi = load_be(e);
    lo = load_be(e + 8);
    e[0] = 0;
    next_entry = (next_entry + 1) % (kQueueBytes / 16);
    return true;
}
bool wait_for(u64 header_mask, u64 header, u64& hi, u64& lo, u64 ms) {
    Deadline d = Deadline::ms(ms);
    while (!d.expired()) {
        while (receive(hi, lo)) {
            if ((hi & header_mask) == header) return true;
        }
        idle(ticks_per_ms());
    }
    return false;
}
i64 send(u64 hi, u64 lo) {
    return hcall(H_SEND_CRQ, kUa, hi, lo).status;
}
// Sends until the partner has registered (H_CLOSED meanwhile).
bool send_when_connected(u64 hi, u64 lo) {
    Deadline d = Deadline::ms(60000);
    i64 s = H_CLOSED;
    while ((s = send(hi, lo)) == H_CLOSED && !d.expired()) idle(5 * ticks_per_ms());
    return s == H_SUCCESS;
}

void map_window() {
    check_status(hcall(H_PUT_TCE, kLiobn, kQueue, la(area + kQueue) | kRW).status, H_SUCCESS,
                 "H_PUT_TCE of the queue page");
    check_status(hcall(H_PUT_TCE, kLiobn, kData, la(area + kData) | kRW).status, H_SUCCESS,
                 "H_PUT_TCE of the data page");
    check_status(hcall(H_PUT_TCE, kLiobn, kReadOnly, la(area + kReadOnly) | kRead).status,
                 H_SUCCESS, "H_PUT_TCE of a read-only page");
}

void check_bad_calls(bool server) {
    check_status(hcall(H_SEND_CRQ, kUa, kInit, 0).status, H_CLOSED,
                 "H_SEND_CRQ before H_REG_CRQ -> H_CLOSED");
    check_status(hcall(H_REG_CRQ, kUa + 1, kQueue, kQueueBytes).status, H_PARAMETER,
                 "H_REG_CRQ for a unit address we do not have -> H_PARAMETER");
    check_status(hcall(H_REG_CRQ, 0x30000002, kQueue, kQueueBytes).status, H_PARAMETER,
                 "H_REG_CRQ for another LPAR's device number -> H_PARAMETER");
    check_status(hcall(H_REG_CRQ, kUa, kQueue + 16, kQueueBytes).status, H_PARAMETER,
                 "H_REG_CRQ with an unaligned queue -> H_PARAMETER");
    check_status(hcall(H_REG_CRQ, kUa, kQueue, 100).status, H_PARAMETER,
                 "H_REG_CRQ of 100 bytes -> H_PARAMETER");
    check_status(hcall(H_REG_CRQ, kUa, kWindow - kPage, 2 * kPage).status, H_PARAMETER,
                 "H_REG_CRQ past the window -> H_PARAMETER");
    check_status(hcall(H_REG_CRQ, kUa, kUnmapped, kPage).status, H_PARAMETER,
                 "H_REG_CRQ of an unmapped page -> H_PARAMETER");
    check_status(hcall(H_REG_CRQ, kUa, kReadOnly, kPage).status, H_PARAMETER,
                 "H_REG_CRQ of a read-only page -> H_PARAMETER");
    check_status(hcall(H_FREE_CRQ, kUa + 1).status, H_PARAMETER,
                 "H_FREE_CRQ for a unit address we do not have -> H_PARAMETER");
    check_status(hcall(H_ENABLE_CRQ, kUa + 1).status, H_PARAMETER,
                 "H_ENABLE_CRQ for a unit address we do not have -> H_PARAMETER");
    check_status(hcall(H_VIO_SIGNAL, kUa, 2).status, H_PARAMETER,
                 "H_VIO_SIGNAL with an unknown mode bit -> H_PARAMETER");
    check_status(hcall(H_VIOCTL, kUa, 8, 0).status, H_FUNCTION, "H_VIOCTL -> H_FUNCTION");
    check_status(hcall(H_COPY_RDMA, 16, kOtherLiobn, 0, kLiobn, kData).status, H_SOURCE_PARM,
                 "H_COPY_RDMA from another LPAR's LIOBN -> H_SOURCE_PARM");
    check_status(hcall(H_COPY_RDMA, 16, kLiobn, kData, kOtherLiobn, 0).status, H_DEST_PARM,
                 "H_COPY_RDMA to another LPAR's LIOBN -> H_DEST_PARM");
    check_status(hcall(H_COPY_RDMA, 16, kRemote, 0, kLiobn, kData).status, H_SOURCE_PARM,
                 server ? "H_COPY_RDMA from the remote window before connecting -> H_SOURCE_PARM"
                        : "H_COPY_RDMA from the server's remote LIOBN -> H_SOURCE_PARM");
    check_status(hcall(H_COPY_RDMA, 2 * kPage, kLiobn, kWindow - kPage, kLiobn, kData).status,
                 H_SOURCE_PARM, "H_COPY_RDMA of a length past the window -> H_SOURCE_PARM");
    check_status(hcall(H_COPY_RDMA, 16, kLiobn, kUnmapped, kLiobn, kData).status, H_PERMISSION,
                 "H_COPY_RDMA from a page without access bits -> H_PERMISSION");
    check_status(hcall(H_COPY_RDMA, 16, kLiobn, kData, kLiobn, kReadOnly).status, H_PERMISSION,
                 "H_COPY_RDMA to a read-only page -> H_PERMISSION");
}

void server() {
    map_window();
    check_bad_calls(true);
    const i64 r = hcall(H_REG_CRQ, kUa, kQueue, kQueueBytes).status;
    check(r == H_SUCCESS || r == H_CLOSED, "H_REG_CRQ -> H_SUCCESS or H_CLOSED (got %lld)",
          static_cast<long long>(r));
    check_status(hcall(H_REG_CRQ, kUa, kQueue, kQueueBytes).status, H_RESOURCE,
                 "H_REG_CRQ again -> H_RESOURCE");
    check_status(hcall(H_SEND_CRQ, kUa, 0x7000'0000'0000'0000, 0).status, H_PARAMETER,
                 "H_SEND_CRQ without the valid bit -> H_PARAMETER");
    check_status(hcall(H_SEND_CRQ, kUa, kFailedEvent, 0).status, H_PARAMETER,
                 "H_SEND_CRQ of a transport event (0xFF) -> H_PARAMETER");
    u64 hi = 0, lo = 0;
    check(wait_for(0xFFFF'0000'0000'0000, kInit, hi, lo, 60000), "the client's init message");
    check_status(send(kInitDone, 0), H_SUCCESS, "H_SEND_CRQ init complete");
    check(wait_for(0xFF00'0000'0000'0000, kCommand, hi, lo, 60000), "the client's command");
    const u64 buf = lo; // the client's IOBA of 64 bytes to read, then overwrite
    check_status(hcall(H_COPY_RDMA, 64, kRemote, buf, kLiobn, kData).status, H_SUCCESS,
                 "H_COPY_RDMA remote -> local (fetch the client's buffer)");
    bool pattern = true;
    for (u64 i = 0; i < 64; ++i) pattern &= area[kData + i] == static_cast<u8>(0xA0 + i);
    check(pattern, "the client's bytes arrived");
    for (u64 i = 0; i < 64; ++i) area[kData + i] = static_cast<u8>(0x50 ^ i);
    check_status(hcall(H_COPY_RDMA, 64, kLiobn, kData, kRemote, buf).status, H_SUCCESS,
                 "H_COPY_RDMA local -> remote (the answer)");
    check_status(hcall(H_COPY_RDMA, 64, kLiobn, kData, kRemote, kReadOnly).status, H_PERMISSION,
                 "H_COPY_RDMA to the client's read-only page -> H_PERMISSION");
    check_status(hcall(H_COPY_RDMA, 64, kRemote, kUnmapped, kLiobn, kData).status, H_PERMISSION,
                 "H_COPY_RDMA from the client's unmapped page -> H_PERMISSION");
    check_status(hcall(H_COPY_RDMA, 2 * kPage, kLiobn, kData, kRemote, kWindow - kPage).status,
                 H_DEST_PARM, "H_COPY_RDMA past the client's window -> H_DEST_PARM");
    check_status(hcall(H_PUT_TCE, kRemote, 0, la(area) | kRW).status, H_PARAMETER,
                 "H_PUT_TCE on the remote window -> H_PARAMETER (it is the client's)");
    check_status(send(kResponse, buf), H_SUCCESS, "H_SEND_CRQ response");
    check_status(send(kCounts, u64{passed() + 1} << 32 | failed()), H_SUCCESS,
                 "H_SEND_CRQ of our counts");
    // Now crash: the client must get a transport event and go on.
    static const char msg[] = "vscsi server: crashing on purpose";
    hcall(H_TESSERA_SHUTDOWN, 2, la(msg), sizeof msg - 1);
    check(false, "still running after H_TESSERA_SHUTDOWN(panic)");
}

void client() {
    map_window();
    check_bad_calls(false);
    const i64 r = hcall(H_REG_CRQ, kUa, kQueue, kQueueBytes).status;
    check(r == H_SUCCESS || r == H_CLOSED, "H_REG_CRQ -> H_SUCCESS or H_CLOSED (got %lld)",
          static_cast<long long>(r));
    check_status(hcall(H_ENABLE_CRQ, kUa).status, H_SUCCESS, "H_ENABLE_CRQ");
    check(send_when_connected(kInit, 0), "H_SEND_CRQ init once the server registered");
    u64 hi = 0, lo = 0;
    check(wait_for(0xFFFF'0000'0000'0000, kInitDone, hi, lo, 60000), "the server's init complete");
    for (u64 i = 0; i < 64; ++i) area[kData + 256 + i] = static_cast<u8>(0xA0 + i);
    check_status(send(kCommand, kData + 256), H_SUCCESS, "H_SEND_CRQ command");
    check(wait_for(0xFF00'0000'0000'0000, kResponse, hi, lo, 60000) && lo == kData + 256,
          "the server's response, with our tag");
    bool answer = true;
    for (u64 i = 0; i < 64; ++i) answer &= area[kData + 256 + i] == static_cast<u8>(0x50 ^ i);
    check(answer, "the server wrote its answer into our buffer (H_COPY_RDMA)");
    check(wait_for(0xFF00'0000'0000'0000, kCounts, hi, lo, 60000), "the server's counts");
    note("server: %u passed, %u failed", unsigned(lo >> 32), unsigned(lo & 0xffffffff));
    check_eq(lo & 0xffffffff, 0, "the server's checks all passed (%u)", unsigned(lo >> 32));
    check(wait_for(0xFFFF'0000'0000'0000, kFailedEvent, hi, lo, 60000),
          "transport event 0xFF01 when the server crashed");
    check_status(send(kCommand, 0), H_CLOSED, "H_SEND_CRQ after the server crashed -> H_CLOSED");
    check_status(hcall(H_FREE_CRQ, kUa).status, H_SUCCESS, "H_FREE_CRQ");
    check_status(hcall(H_REG_CRQ, kUa, kQueue, kQueueBytes).status, H_CLOSED,
                 "H_REG_CRQ again -> H_CLOSED (the server is gone)");
    check_status(hcall(H_FREE_CRQ, kUa).status, H_SUCCESS, "H_FREE_CRQ again");
}

} // namespace

void lpar_main(const Boot& b) {
    if (b.vcpu != 0) return;
    if (b.memory_size == 32 * tessera::MiB)
        server();
    else
        client();
}
