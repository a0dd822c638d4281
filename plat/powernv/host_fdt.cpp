#include "plat/powernv/host_fdt.hpp"

#include "common/log.hpp"

extern "C" {
#include <libfdt.h>
}

namespace tessera::powernv {
namespace {

u64 read_cells(const fdt32_t* p, int cells) {
    u64 v = 0;
    for (int i = 0; i < cells; ++i) v = (v << 32) | fdt32_to_cpu(p[i]);
    return v;
}

void add(RealRange* list, usize& count, u64 base, u64 size) {
    if (size == 0 || count >= HostInfo::kMaxRanges) return;
    list[count++] = RealRange{RealAddr(base), size};
}

void read_memory(const void* fdt, HostInfo& out) {
    int ac = fdt_address_cells(fdt, 0), sc = fdt_size_cells(fdt, 0);
    if (ac < 1 || ac > 2 || sc < 1 || sc > 2) return;
    for (int node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", 7); node >= 0;
         node = fdt_node_offset_by_prop_value(fdt, node, "device_type", "memory", 7)) {
        int len = 0;
        auto* reg = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "reg", &len));
        if (!reg) continue;
        int stride = (ac + sc) * 4;
        for (int off = 0; off + stride <= len; off += stride, reg += ac + sc)
            add(out.ram, out.ram_count, read_cells(reg, ac), read_cells(reg + ac, sc));
    }
}

void read_reservations(const void* fdt, HostInfo& out) {
    int n = fdt_num_mem_rsv(fdt);
    for (int i = 0; i < n; ++i) {
        uint64_t base = 0, size = 0;
        if (fdt_get_mem_rsv(fdt, i, &base, &size) == 0)
            add(out.reserved, out.reserved_count, base, size);
    }
    // skiboot also lists its regions under /reserved-memory.
    int rm = fdt_path_offset(fdt, "/reserved-memory");
    if (rm < 0) return;
    int ac = fdt_address_cells(fdt, rm), sc = fdt_size_cells(fdt, rm);
    if (ac < 1 || ac > 2 || sc < 1 || sc > 2) return;
    int child;
    fdt_for_each_subnode(child, fdt, rm) {
        int len = 0;
        auto* reg = static_cast<const fdt32_t*>(fdt_getprop(fdt, child, "reg", &len));
        if (reg && len >= (ac + sc) * 4)
            add(out.reserved, out.reserved_count, read_cells(reg, ac), read_cells(reg + ac, sc));
    }
}

void read_cpus(const void* fdt, HostInfo& out) {
    for (int node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "cpu", 4); node >= 0;
         node = fdt_node_offset_by_prop_value(fdt, node, "device_type", "cpu", 4)) {
        int len = 0;
        auto* tb = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "timebase-frequency", &len));
        if (tb && out.timebase_hz == 0) out.timebase_hz = read_cells(tb, len >= 8 ? 2 : 1);
        auto* dcache = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "d-cache-size", &len));
        if (dcache && len >= 4 && out.l1d_bytes == 0) out.l1d_bytes = fdt32_to_cpu(dcache[0]);
        auto* servers =
            static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "ibm,ppc-interrupt-server#s", &len));
        if (!servers || len < 4) continue;
        out.cpu_threads += static_cast<u32>(len / 4);
        if (out.core_count < HostInfo::kMaxCores)
            out.cores[out.core_count++].pir = fdt32_to_cpu(servers[0]);
    }
}

// The POWER8 ICPs: one node per core or thread, "ibm,interrupt-server-ranges" = <first count>,
// reg = one (address, size) per server.
void read_icps(const void* fdt, HostInfo& out) {
    int ac = fdt_address_cells(fdt, 0), sc = fdt_size_cells(fdt, 0);
    if (ac < 1 || ac > 2 || sc < 1 || sc > 2) return;
    for (int node = fdt_node_offset_by_compatible(fdt, -1, "IBM,ppc-xicp"); node >= 0;
         node = fdt_node_offset_by_compatible(fdt, node, "IBM,ppc-xicp")) {
        int rlen = 0, len = 0;
        auto* ranges = static_cast<const fdt32_t*>(
            fdt_getprop(fdt, node, "ibm,interrupt-server-ranges", &rlen));
        auto* reg = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "reg", &len));
        if (!ranges || rlen < 8 || !reg) continue;
        const u32 first = fdt32_to_cpu(ranges[0]), count = fdt32_to_cpu(ranges[1]);
        const int stride = ac + sc;
        for (u32 i = 0; i < count && static_cast<int>((i + 1) * stride * 4) <= len; ++i) {
            for (usize c = 0; c < out.core_count; ++c) {
                if (out.cores[c].pir == first + i)
                    out.cores[c].icp = read_cells(reg + i * stride, ac);
            }
        }
    }
}

void read_chosen(const void* fdt, HostInfo& out) {
    int chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen < 0) return;
    int slen = 0, elen = 0;
    auto* s = static_cast<const fdt32_t*>(fdt_getprop(fdt, chosen, "linux,initrd-start", &slen));
    auto* e = static_cast<const fdt32_t*>(fdt_getprop(fdt, chosen, "linux,initrd-end", &elen));
    if (!s || !e) return;
    u64 start = read_cells(s, slen >= 8 ? 2 : 1), end = read_cells(e, elen >= 8 ? 2 : 1);
    if (end > start) out.bundle = RealRange{RealAddr(start), end - start};
}

// Each child of /ibm,opal/fw-features is one feature with an "enabled" or a "disabled" property.
void read_fw_features(const void* fdt, HostInfo& out) {
    const int node = fdt_path_offset(fdt, "/ibm,opal/fw-features");
    if (node < 0) return;
    out.fw.present = true;
    int child;
    fdt_for_each_subnode(child, fdt, node) {
        arch::FwFeature f;
        const char* name = fdt_get_name(fdt, child, nullptr);
        if (name == nullptr || !arch::fw_feature_by_name(name, f)) continue;
        if (fdt_getprop(fdt, child, "enabled", nullptr) != nullptr)
            out.fw.set(f, arch::FwState::Enabled);
        else if (fdt_getprop(fdt, child, "disabled", nullptr) != nullptr)
            out.fw.set(f, arch::FwState::Disabled);
    }
}

} // namespace

bool read_host_fdt(const void* fdt, HostInfo& out) {
    int rc = fdt_check_header(fdt);
    if (rc != 0) {
        log("powernv: host device tree at %p is not valid: %s\n", fdt, fdt_strerror(rc));
        return false;
    }
    read_memory(fdt, out);
    read_reservations(fdt, out);
    read_cpus(fdt, out);
    read_icps(fdt, out);
    read_chosen(fdt, out);
    read_fw_features(fdt, out);
    // The FDT itself must survive until we are done with it.
    add(out.reserved, out.reserved_count, reinterpret_cast<uptr>(fdt), fdt_totalsize(fdt));
    return true;
}

} // namespace tessera::powernv
