#include "common/guest_fdt.hpp"

#include <tessera/lpar_control.h>

#include "common/rt/format.hpp"
#include "common/rt/string.hpp"

extern "C" {
#include <libfdt.h>
}

namespace tessera::guest_fdt {

namespace {

// The hcall function sets of the ISA-neutral hcalls (hcall/dispatch.cpp): the vty and XICS calls,
// the TCE calls (H_PUT_TCE_INDIRECT and H_STUFF_TCE are "multi-tce") and the logical LAN.
// hcall-vio (H_VIO_SIGNAL) is what ibmvscsi checks before it probes; hcall-crq the CRQ calls,
// hcall-rdma H_COPY_RDMA.
constexpr const char* kCommonHypertas[] = {"hcall-term",      "hcall-interrupt", "hcall-tce",
                                           "hcall-multi-tce", "hcall-lLAN",      "hcall-vio",
                                           "hcall-crq",       "hcall-rdma"};

constexpr u32 kRtasErrorLogMax = 2048; // Linux's RTAS_ERROR_LOG_MAX; Tessera writes no logs
constexpr u32 kRtasEventScanRate = 1;  // event-scan calls per minute (QEMU's rate)
constexpr usize kMaxCpuNameLength = 47;
constexpr usize kNodeNameMax = 64;

bool fits_u32(u64 v) {
    return v != 0 && v <= 0xffff'ffff;
}

bool valid_name(const char* s, usize max_length) {
    return s != nullptr && s[0] != '\0' && rt::str_length_max(s, max_length + 1) <= max_length;
}

bool check_isa(const IsaFacts* isa) {
    if (isa == nullptr || !valid_name(isa->cpu_name, kMaxCpuNameLength)) return false;
    if (!fits_u32(isa->timebase_hz) || !fits_u32(isa->clock_hz)) return false;
    if (isa->cpu_prop_count != 0 && isa->cpu_props == nullptr) return false;
    for (usize i = 0; i < isa->cpu_prop_count; ++i) {
        const CellsProperty& p = isa->cpu_props[i];
        if (p.name == nullptr || (p.count != 0 && p.cells == nullptr)) return false;
    }
    if (isa->hypertas_count != 0 && isa->hypertas == nullptr) return false;
    for (usize i = 0; i < isa->hypertas_count; ++i) {
        if (isa->hypertas[i] == nullptr) return false;
    }
    return true;
}

bool check(const Description& d) {
    if (!check_isa(d.isa) || d.model == nullptr || d.compatible == nullptr) return false;
    if (d.cpu_count == 0 || d.cpu_count > kMaxCpus || d.memory_size == 0) return false;
    if (d.bootargs != nullptr && rt::str_length_max(d.bootargs, kMaxBootargs) >= kMaxBootargs)
        return false;
    if (d.partition_name != nullptr && !valid_name(d.partition_name, kMaxBootargs)) return false;
    const u64 initrd = d.initrd_start.value();
    if (d.initrd_size != 0 && (initrd > d.memory_size || d.initrd_size > d.memory_size - initrd))
        return false;
    // linux,rtas-base is one cell, and RTAS runs in real mode: inside the LPAR, below 4 GiB.
    // rtas_size 0: no RTAS region (pc: the guest calls RTAS through H_RTAS).
    const u64 rtas = d.rtas_base.value();
    const u64 rtas_limit = d.memory_size < (u64{1} << 32) ? d.memory_size : u64{1} << 32;
    if (d.rtas_size != 0 && (rtas > rtas_limit || d.rtas_size > rtas_limit - rtas)) return false;
    if (d.rtas_tokens.count != 0 && d.rtas_tokens.entries == nullptr) return false;
    for (usize i = 0; i < d.rtas_tokens.count; ++i) {
        if (!valid_name(d.rtas_tokens.entries[i].name, kNodeNameMax)) return false;
    }
    if (d.lan_count > kMaxLans || d.vscsi_count > kMaxVscsi) return false;
    return true;
}

// libfdt's sequential-write calls; the first failure is kept and makes the rest no-ops.
class Writer {
  public:
    explicit Writer(void* fdt) : fdt_(fdt) {}

    int error() const { return error_; }
    void note(int r) {
        if (r < 0 && error_ == 0) error_ = r;
    }

    void begin(const char* name) {
        if (error_ == 0) note(fdt_begin_node(fdt_, name));
    }
    void end() {
        if (error_ == 0) note(fdt_end_node(fdt_));
    }
    void empty(const char* name) {
        if (error_ == 0) note(fdt_property(fdt_, name, nullptr, 0));
    }
    void string(const char* name, const char* value) {
        if (error_ == 0)
            note(fdt_property(fdt_, name, value, static_cast<int>(rt::str_length(value) + 1)));
    }
    void cell(const char* name, u32 value) {
        if (error_ == 0) note(fdt_property_u32(fdt_, name, value));
    }
    void bytes(const char* name, const u8* value, usize len) {
        if (error_ == 0) note(fdt_property(fdt_, name, value, static_cast<int>(len)));
    }
    void cell64(const char* name, u64 value) {
        if (error_ == 0) note(fdt_property_u64(fdt_, name, value));
    }
    void cells(const char* name, const u32* values, usize count) {
        void* value = nullptr;
        if (error_ == 0)
            note(fdt_property_placeholder(fdt_, name, static_cast<int>(count * 4), &value));
        if (error_ != 0) return;
        auto* out = static_cast<u8*>(value); // 4-byte aligned, but byte stores need no proof
        for (usize i = 0; i < count; ++i) {
            const fdt32_t be = cpu_to_fdt32(values[i]);
            rt::mem_copy(out + 4 * i, &be, 4);
        }
    }
    // A string list: every entry of `a` then of `b`, each with its terminator.
    void strings(const char* name, const char* const* a, usize na, const char* const* b, usize nb) {
        usize total = 0;
        for (usize i = 0; i < na; ++i) total += rt::str_length(a[i]) + 1;
        for (usize i = 0; i < nb; ++i) total += rt::str_length(b[i]) + 1;
        void* value = nullptr;
        if (error_ == 0)
            note(fdt_property_placeholder(fdt_, name, static_cast<int>(total), &value));
        if (error_ != 0) return;
        char* out = static_cast<char*>(value);
        for (usize i = 0; i < na + nb; ++i) {
            const char* s = i < na ? a[i] : b[i - na];
            const usize len = rt::str_length(s) + 1;
            rt::mem_copy(out, s, len);
            out += len;
        }
    }

  private:
    void* fdt_;
    int error_ = 0;
};

void write_root(Writer& w, const Description& d) {
    w.string("device_type", "chrp");
    w.string("model", d.model);
    w.string("compatible", d.compatible);
    w.cell("#address-cells", 2);
    w.cell("#size-cells", 2);
    if (d.partition_name != nullptr) w.string("ibm,partition-name", d.partition_name);
    if (d.partition_no != 0) w.cell("ibm,partition-no", d.partition_no);
}

void write_chosen(Writer& w, const Description& d) {
    char stdout_path[kNodeNameMax];
    rt::format(stdout_path, sizeof stdout_path, "/vdevice/vty@%x", d.vty_termno);
    w.begin("chosen");
    if (d.bootargs != nullptr) w.string("bootargs", d.bootargs);
    if (d.initrd_size != 0) {
        w.cell64("linux,initrd-start", d.initrd_start.value());
        w.cell64("linux,initrd-end", d.initrd_start.value() + d.initrd_size);
    }
    w.string("linux,stdout-path", stdout_path);
    w.string("stdout-path", stdout_path);
    w.end();
}

void write_cache(Writer& w, const Cache& c, const char* size, const char* line, const char* block,
                 const char* sets) {
    if (c.size == 0) return;
    w.cell(size, c.size);
    w.cell(line, c.line_size);
    w.cell(block, c.block_size);
    if (c.sets != 0) w.cell(sets, c.sets);
}

void write_cpus(Writer& w, const Description& d) {
    const IsaFacts& isa = *d.isa;
    w.begin("cpus");
    w.cell("#address-cells", 1);
    w.cell("#size-cells", 0);
    for (u32 cpu = 0; cpu < d.cpu_count; ++cpu) {
        char name[kNodeNameMax];
        rt::format(name, sizeof name, "%s@%x", isa.cpu_name, cpu);
        w.begin(name);
        w.string("device_type", "cpu");
        w.cell("reg", cpu);
        w.cell("ibm,ppc-interrupt-server#s", cpu);
        w.cell("timebase-frequency", static_cast<u32>(isa.timebase_hz));
        w.cell("clock-frequency", static_cast<u32>(isa.clock_hz));
        write_cache(w, isa.dcache, "d-cache-size", "d-cache-line-size", "d-cache-block-size",
                    "d-cache-sets");
        write_cache(w, isa.icache, "i-cache-size", "i-cache-line-size", "i-cache-block-size",
                    "i-cache-sets");
        for (usize i = 0; i < isa.cpu_prop_count; ++i) {
            const CellsProperty& p = isa.cpu_props[i];
            w.cells(p.name, p.cells, p.count);
        }
        w.string("status", "okay");
        w.end();
    }
    w.end();
}

void write_memory(Writer& w, const Description& d) {
    const u32 reg[] = {0, 0, static_cast<u32>(d.memory_size >> 32),
                       static_cast<u32>(d.memory_size)};
    w.begin("memory@0");
    w.string("device_type", "memory");
    w.cells("reg", reg, 4);
    w.end();
}

void write_rtas(Writer& w, const Description& d) {
    const IsaFacts& isa = *d.isa;
    w.begin("rtas");
    w.strings("ibm,hypertas-functions", kCommonHypertas, sizeof kCommonHypertas / sizeof(char*),
              isa.hypertas, isa.hypertas_count);
    if (d.rtas_size != 0) {
        w.cell("linux,rtas-base", static_cast<u32>(d.rtas_base.value()));
        w.cell("linux,rtas-entry", static_cast<u32>(d.rtas_base.value()));
        w.cell("rtas-size", d.rtas_size);
    }
    w.cell("rtas-error-log-max", kRtasErrorLogMax);
    w.cell("rtas-event-scan-rate", kRtasEventScanRate);
    w.empty("ibm,extended-os-term");
    for (usize i = 0; i < d.rtas_tokens.count; ++i)
        w.cell(d.rtas_tokens.entries[i].name, d.rtas_tokens.entries[i].token);
    w.end();
}

void write_lpar_control(Writer& w, const Description& d) {
    if (!d.control) return;
    const u32 range[] = {TLPAR_HCALL_FIRST, TLPAR_HCALL_LAST};
    w.begin("tessera-lpar-control");
    w.string("compatible", "tessera,lpar-control");
    w.cells("tessera,hcall-range", range, 2);
    w.end();
}

void write_interrupt_controller(Writer& w, const Description& d) {
    const u32 servers[] = {0, d.cpu_count};
    w.begin("interrupt-controller");
    w.string("device_type", "PowerPC-External-Interrupt-Presentation");
    w.string("compatible", "IBM,ppc-xicp");
    w.empty("interrupt-controller");
    w.cell("#address-cells", 0);
    w.cell("#interrupt-cells", 2);
    w.cells("ibm,interrupt-server-ranges", servers, 2);
    w.end();
}

void write_lan(Writer& w, const Lan& lan) {
    char name[kNodeNameMax];
    rt::format(name, sizeof name, "l-lan@%x", lan.unit_address);
    const u32 irq[] = {lan.irq, 0}; // 0: positive edge
    const u32 window[] = {lan.unit_address, 0, 0, static_cast<u32>(lan.window_size >> 32),
                          static_cast<u32>(lan.window_size)};
    u8 mac[6];
    for (usize i = 0; i < 6; ++i) mac[i] = static_cast<u8>(lan.mac >> (40 - 8 * i));
    w.begin(name);
    w.string("device_type", "network");
    w.string("compatible", "IBM,l-lan");
    w.cell("reg", lan.unit_address);
    w.cells("interrupts", irq, 2);
    w.cell("ibm,#dma-address-cells", 2);
    w.cell("ibm,#dma-size-cells", 2);
    w.cells("ibm,my-dma-window", window, 5);
    w.bytes("local-mac-address", mac, sizeof mac);
    w.bytes("mac-address", mac, sizeof mac);
    w.cell("ibm,mac-address-filters", 0);
    w.end();
}

void write_vscsi(Writer& w, const Vscsi& v) {
    char name[kNodeNameMax];
    rt::format(name, sizeof name, "%s@%x", v.server ? "v-scsi-host" : "v-scsi", v.unit_address);
    const u32 irq[] = {v.irq, 0}; // 0: positive edge
    const u32 hi = static_cast<u32>(v.window_size >> 32), lo = static_cast<u32>(v.window_size);
    const u32 window[] = {v.unit_address, 0, 0, hi, lo, v.remote_liobn, 0, 0, hi, lo};
    const char* type = v.server ? "v-scsi-host" : "vscsi";
    w.begin(name);
    w.string("device_type", type);
    w.string("compatible", v.server ? "IBM,v-scsi-host" : "IBM,v-scsi");
    w.cell("reg", v.unit_address);
    w.cells("interrupts", irq, 2);
    w.cell("ibm,#dma-address-cells", 2);
    w.cell("ibm,#dma-size-cells", 2);
    w.cells("ibm,my-dma-window", window, v.server ? 10 : 5);
    if (v.server) w.empty("ibm,vserver");
    w.end();
}

void write_vdevice(Writer& w, const Description& d) {
    char vty[kNodeNameMax];
    rt::format(vty, sizeof vty, "vty@%x", d.vty_termno);
    w.begin("vdevice");
    w.string("device_type", "vdevice");
    w.string("compatible", "IBM,vdevice");
    w.cell("#address-cells", 1);
    w.cell("#size-cells", 0);
    w.cell("#interrupt-cells", 2);
    w.empty("interrupt-controller");
    w.begin(vty);
    w.string("device_type", "serial");
    w.string("compatible", "hvterm1");
    w.cell("reg", d.vty_termno);
    w.end();
    for (usize i = 0; i < d.lan_count; ++i) write_lan(w, d.lans[i]);
    for (usize i = 0; i < d.vscsi_count; ++i) write_vscsi(w, d.vscsi[i]);
    w.end();
}

Result fail(void* buf, usize capacity, Error e, int libfdt_error = 0) {
    // A half-built tree keeps libfdt's sequential-write magic; make the failure unmistakable.
    if (capacity >= 4) rt::mem_set(buf, 0, 4);
    return Result{e, 0, libfdt_error};
}

} // namespace

const char* to_string(Error e) {
    switch (e) {
    case Error::None:
        return "ok";
    case Error::BadBuffer:
        return "FDT buffer is null or not 8-byte aligned";
    case Error::NoSpace:
        return "FDT buffer too small";
    case Error::BadDescription:
        return "invalid guest description";
    case Error::Libfdt:
        return "libfdt error";
    }
    return "?";
}

Result build(const Description& d, void* buf, usize capacity) {
    if (buf == nullptr || reinterpret_cast<uptr>(buf) % 8 != 0) return Result{Error::BadBuffer};
    if (!check(d)) return fail(buf, capacity, Error::BadDescription);
    const int size = capacity > 0x7fff'ffff ? 0x7fff'ffff : static_cast<int>(capacity);

    Writer w(buf);
    w.note(fdt_create(buf, size));
    if (w.error() == 0 && d.rtas_size != 0)
        w.note(fdt_add_reservemap_entry(buf, d.rtas_base.value(), d.rtas_size));
    if (w.error() == 0) w.note(fdt_finish_reservemap(buf));
    w.begin("");
    write_root(w, d);
    write_chosen(w, d);
    write_cpus(w, d);
    write_memory(w, d);
    write_rtas(w, d);
    write_interrupt_controller(w, d);
    write_vdevice(w, d);
    write_lpar_control(w, d);
    w.end();
    if (w.error() == 0) w.note(fdt_finish(buf));
    if (w.error() != 0) {
        const int e = w.error();
        return fail(buf, capacity, e == -FDT_ERR_NOSPACE ? Error::NoSpace : Error::Libfdt, e);
    }
    fdt_set_boot_cpuid_phys(buf, 0); // the boot CPU is vcpu 0, server 0
    return Result{Error::None, fdt_totalsize(buf), 0};
}

} // namespace tessera::guest_fdt
