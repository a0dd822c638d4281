// The check framework: `ok - WHAT` / `FAIL - WHAT (DETAILS)` lines, counts, the final report.
#include "common/rt/format.hpp"
#include "lpar.hpp"
#include "lpar_internal.hpp"

namespace lpar {

using namespace tessera::hcall;

namespace {

constinit unsigned g_passed = 0;
constinit unsigned g_failed = 0;

bool report(bool ok, const char* detail, const char* what, va_list ap) {
    char text[200];
    tessera::rt::vformat(text, sizeof(text), what, ap);
    console_lock();
    if (ok) {
        ++g_passed;
        print("ok - %s\n", text);
    } else {
        ++g_failed;
        if (detail != nullptr && detail[0] != '\0')
            print("FAIL - %s (%s)\n", text, detail);
        else
            print("FAIL - %s\n", text);
    }
    console_unlock();
    return ok;
}

struct StatusName {
    i64 code;
    const char* name;
};
// clang-format off
constexpr StatusName kStatusNames[] = {
    {H_SUCCESS, "H_SUCCESS"}, {H_BUSY, "H_BUSY"}, {H_CLOSED, "H_CLOSED"},
    {H_NOT_AVAILABLE, "H_NOT_AVAILABLE"}, {H_CONSTRAINED, "H_CONSTRAINED"},
    {H_PARTIAL, "H_PARTIAL"}, {H_IN_PROGRESS, "H_IN_PROGRESS"},
    {H_PAGE_REGISTERED, "H_PAGE_REGISTERED"}, {H_PARTIAL_STORE, "H_PARTIAL_STORE"},
    {H_PENDING, "H_PENDING"}, {H_CONTINUE, "H_CONTINUE"}, {H_HARDWARE, "H_HARDWARE"},
    {H_FUNCTION, "H_FUNCTION"}, {H_PRIVILEGE, "H_PRIVILEGE"}, {H_PARAMETER, "H_PARAMETER"},
    {H_BAD_MODE, "H_BAD_MODE"}, {H_PTEG_FULL, "H_PTEG_FULL"}, {H_NOT_FOUND, "H_NOT_FOUND"},
    {H_RESERVED_DABR, "H_RESERVED_DABR"}, {H_NO_MEM, "H_NO_MEM"}, {H_AUTHORITY, "H_AUTHORITY"},
    {H_PERMISSION, "H_PERMISSION"}, {H_DROPPED, "H_DROPPED"},
    {H_SOURCE_PARM, "H_SOURCE_PARM"}, {H_DEST_PARM, "H_DEST_PARM"},
    {H_REMOTE_PARM, "H_REMOTE_PARM"}, {H_RESOURCE, "H_RESOURCE"}, {H_TOO_BIG, "H_TOO_BIG"},
    {H_OVERLAP, "H_OVERLAP"}, {H_INTERRUPT, "H_INTERRUPT"}, {H_BAD_DATA, "H_BAD_DATA"},
    {H_NOT_ACTIVE, "H_NOT_ACTIVE"}, {H_UNSUPPORTED_FLAG, "H_UNSUPPORTED_FLAG"},
};
// clang-format on

// Other PAPR return codes (LoPAR; Linux's asm/hvcall.h): the long-busy hints
// H_LONG_BUSY_ORDER_1_MSEC..100_SEC, the parameter and state errors down to H_IN_USE (-77),
// the H_UNSUPPORTED_FLAG range (-256 - n for flag bit n) and two SMT/coprocessor states.
constexpr i64 kLongBusyFirst = 9900, kLongBusyLast = 9905;
constexpr i64 kLastPlainError = -78;
constexpr i64 kUnsupportedFlagLast = -511;
constexpr i64 kMultiThreadsActive = -9005, kOutstandingCopOps = -9006;

} // namespace

const char* status_name(i64 status) {
    for (const StatusName& s : kStatusNames)
        if (s.code == status) return s.name;
    return "?";
}

bool valid_status(i64 status) {
    if (status_name(status)[0] != '?') return true;
    return (status >= kLongBusyFirst && status <= kLongBusyLast) ||
           (status < 0 && status >= kLastPlainError) ||
           (status <= H_UNSUPPORTED_FLAG && status >= kUnsupportedFlagLast) ||
           status == kMultiThreadsActive || status == kOutstandingCopOps;
}

Detail::Detail(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tessera::rt::vformat(buf_, sizeof(buf_), fmt, ap);
    va_end(ap);
}

bool check(bool ok, const char* what, ...) {
    va_list ap;
    va_start(ap, what);
    report(ok, nullptr, what, ap);
    va_end(ap);
    return ok;
}

bool check(bool ok, const Detail& why, const char* what, ...) {
    va_list ap;
    va_start(ap, what);
    report(ok, why.text(), what, ap);
    va_end(ap);
    return ok;
}

bool check_eq(u64 got, u64 want, const char* what, ...) {
    Detail d("got 0x%" PRIx64 ", want 0x%" PRIx64 "", got, want);
    va_list ap;
    va_start(ap, what);
    report(got == want, d.text(), what, ap);
    va_end(ap);
    return got == want;
}

bool check_status(i64 got, i64 want, const char* what, ...) {
    Detail d("got %s (%" PRId64 "), want %s (%" PRId64 ")", status_name(got), got,
             status_name(want), want);
    va_list ap;
    va_start(ap, what);
    report(got == want, d.text(), what, ap);
    va_end(ap);
    return got == want;
}

void note(const char* fmt, ...) {
    char text[200];
    va_list ap;
    va_start(ap, fmt);
    tessera::rt::vformat(text, sizeof(text), fmt, ap);
    va_end(ap);
    print("# %s\n", text);
}

unsigned passed() {
    return __atomic_load_n(&g_passed, __ATOMIC_RELAXED);
}
unsigned failed() {
    return __atomic_load_n(&g_failed, __ATOMIC_RELAXED);
}

[[noreturn]] void exit_lpar() {
    console_lock();
    const unsigned p = g_passed, f = g_failed;
    print("%u passed, %u failed\n", p, f);
    console_unlock();
    const HcallResult r = hcall(H_TESSERA_TEST_EXIT, p, f);
    // Still here: the hypervisor did not end the LPAR.
    print("FAIL - H_TESSERA_TEST_EXIT returned %s (%" PRId64 ") instead of ending the LPAR\n",
          status_name(r.status), r.status);
    for (;;) idle(isa::kTimerMax);
}

[[noreturn]] void finish() {
    const Vcpu& me = this_vcpu();
    if (me.index == 0) {
        for (unsigned i = 1; i < me.boot.vcpu_count && i < kMaxVcpus; ++i) {
            Vcpu& other = vcpu(i);
            const bool done = wait_until([&] { return load_acquire(other.done) != 0; }, 30000, 5);
            check(done, "vcpu %u finished its part within 30 s", i);
        }
    }
    exit_lpar();
}

} // namespace lpar
