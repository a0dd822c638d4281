// The devices the configuration asks for: v-scsi pairs made by attach_vscsi (static tables, so
// one test case creates them once).
#include "common/vio_devices.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "common/crq.hpp"
#include "common/llan.hpp"
#include "common/rdma.hpp"
#include "common/rt/string.hpp"
#include "common/vswitch.hpp"
#include "tests/fake/memory_lpar.hpp"

using namespace tessera;

TEST_CASE("vio devices: vscsi-server/vscsi lines become paired CRQ devices, one per client") {
    const std::string text = "tessera-config 1\n"
                             "[lpar srv]\nmemory = 16M\nkernel = k\nvscsi-server = disks\n"
                             "[lpar c1]\nmemory = 16M\nkernel = k\nvscsi = disks\n"
                             "[lpar c2]\nmemory = 16M\nkernel = k\nvscsi = disks\n";
    auto config = std::make_unique<Config>();
    InputError err;
    REQUIRE(parse_config("t.conf", text.data(), text.size(), *config, err));
    test::MemoryLpar srv(1, kChunkSize, 1), c1(1, kChunkSize, 2), c2(1, kChunkSize, 3);
    char why[96] = "";
    REQUIRE(vio::attach_vscsi(*srv.lpar, *config, config->lpars[0], why, sizeof why));
    REQUIRE(vio::attach_vscsi(*c1.lpar, *config, config->lpars[1], why, sizeof why));
    REQUIRE(vio::attach_vscsi(*c2.lpar, *config, config->lpars[2], why, sizeof why));
    crq::Device* s0 = srv.lpar->vio.crq(vio::kVscsiUnitBase);
    crq::Device* s1 = srv.lpar->vio.crq(vio::kVscsiUnitBase + 1);
    crq::Device* d1 = c1.lpar->vio.crq(vio::kVscsiUnitBase);
    crq::Device* d2 = c2.lpar->vio.crq(vio::kVscsiUnitBase);
    REQUIRE((s0 && s1 && d1 && d2));
    CHECK(s0->role() == crq::Role::Server);
    CHECK(d1->role() == crq::Role::Client);
    CHECK(s0->partner() == d1); // the server device i serves the i-th client in file order
    CHECK(s1->partner() == d2);
    CHECK(d1->partner() == s0);
    CHECK(s0->irq() == vio::kVscsiFirstIrq);
    CHECK(s1->irq() == vio::kVscsiFirstIrq + 1);
    CHECK(s0->window().size() == crq::kWindowSize);
    CHECK(srv.lpar->vio.window(vio::kVscsiUnitBase + 1) == &s1->window());
    CHECK(srv.lpar->vio.window(s1->remote_liobn()) == nullptr); // not on the bus
    // The remote LIOBN reaches the client's window only while both queues are registered.
    srv.start();
    c2.start();
    for (u64 p = 0; p < 2 * tce::kPageSize; p += tce::kPageSize) {
        REQUIRE(s1->window().put(p, p | tce::kRead | tce::kWrite) == hcall::H_SUCCESS);
        REQUIRE(d2->window().put(p, p | tce::kRead | tce::kWrite) == hcall::H_SUCCESS);
    }
    CHECK(rdma::window(srv.lpar->vio, s1->remote_liobn()) == nullptr);
    REQUIRE(d2->reg(0, tce::kPageSize) == hcall::H_CLOSED);
    REQUIRE(s1->reg(0, tce::kPageSize) == hcall::H_SUCCESS);
    CHECK(rdma::window(srv.lpar->vio, s1->remote_liobn()) == &d2->window());
    CHECK(rdma::window(srv.lpar->vio, s0->remote_liobn()) == nullptr); // c1 never registered

    // What the guest device tree says of them (both ISAs' loaders): the server's two devices
    // with their remote LIOBNs, a client's one.
    guest_fdt::Description d;
    d.lan_count = 3; // describe() starts from scratch
    vio::describe(*srv.lpar, d);
    CHECK(d.lan_count == 0);
    REQUIRE(d.vscsi_count == 2);
    CHECK(d.vscsi[0].server);
    CHECK(d.vscsi[0].unit_address == vio::kVscsiUnitBase);
    CHECK(d.vscsi[1].unit_address == vio::kVscsiUnitBase + 1);
    CHECK(d.vscsi[1].irq == vio::kVscsiFirstIrq + 1);
    CHECK(d.vscsi[1].remote_liobn == s1->remote_liobn());
    CHECK(d.vscsi[1].window_size == crq::kWindowSize);
    vio::describe(*c2.lpar, d);
    REQUIRE(d.vscsi_count == 1);
    CHECK_FALSE(d.vscsi[0].server);
    CHECK(d.vscsi[0].unit_address == vio::kVscsiUnitBase);
    // The tables name these LPARs and the configuration: give the entries back.
    for (Lpar* l : {srv.lpar.get(), c1.lpar.get(), c2.lpar.get()}) vio::release(*l);
    CHECK(s0->lpar() == nullptr);
    CHECK(d2->partner() == nullptr);
}

TEST_CASE("vio devices: describe() lists an LPAR's logical LAN adapters in bus order") {
    const std::string text = "tessera-config 1\n"
                             "[lpar a]\nmemory = 16M\nkernel = k\nlan = descnet0\n"
                             "lan = descnet1 02:00:00:00:00:07\n";
    auto config = std::make_unique<Config>();
    InputError err;
    REQUIRE(parse_config("t.conf", text.data(), text.size(), *config, err));
    test::MemoryLpar a(1, kChunkSize, 7);
    char why[96] = "";
    REQUIRE(vio::attach_lans(*a.lpar, config->lpars[0], why, sizeof why));
    guest_fdt::Description d;
    vio::describe(*a.lpar, d);
    REQUIRE(d.lan_count == 2);
    CHECK(d.vscsi_count == 0);
    CHECK(d.lans[0].unit_address == vio::kLanUnitBase);
    CHECK(d.lans[0].irq == vio::kLanFirstIrq);
    CHECK(d.lans[1].unit_address == vio::kLanUnitBase + 1);
    CHECK(d.lans[1].irq == vio::kLanFirstIrq + 1);
    CHECK(d.lans[1].mac == 0x0200'0000'0007);
    CHECK(d.lans[1].window_size == tce::kWindowSize);
    vio::release(*a.lpar);
    vio::describe(*a.lpar, d);
    CHECK(d.lan_count == 0);
}

TEST_CASE("vio devices: release() unpairs a v-scsi client; a new client pairs with the server") {
    const std::string text = "tessera-config 1\n"
                             "[lpar rsrv]\nmemory = 16M\nkernel = k\nvscsi-server = rdisks\n"
                             "[lpar rc]\nmemory = 16M\nkernel = k\nvscsi = rdisks\n";
    auto config = std::make_unique<Config>();
    InputError err;
    REQUIRE(parse_config("t.conf", text.data(), text.size(), *config, err));
    test::MemoryLpar srv(1, kChunkSize, 1);
    char why[96] = "";
    REQUIRE(vio::attach_vscsi(*srv.lpar, *config, config->lpars[0], why, sizeof why));
    crq::Device* s = srv.lpar->vio.crq(vio::kVscsiUnitBase);
    REQUIRE(s);
    srv.start();
    REQUIRE(s->window().put(0, tce::kRead | tce::kWrite) == hcall::H_SUCCESS);
    // More clients, one after the other, than the machine has v-scsi devices.
    for (usize round = 0; round < vio::kMaxVscsiDevices + 2; ++round) {
        CAPTURE(round);
        test::MemoryLpar client(1, kChunkSize, 2);
        REQUIRE(vio::attach_vscsi(*client.lpar, *config, config->lpars[1], why, sizeof why));
        crq::Device* c = client.lpar->vio.crq(vio::kVscsiUnitBase);
        REQUIRE(c);
        CHECK(s->partner() == c);
        client.start();
        REQUIRE(c->window().put(0, tce::kRead | tce::kWrite) == hcall::H_SUCCESS);
        REQUIRE(c->reg(0, tce::kPageSize) == (round == 0 ? hcall::H_CLOSED : hcall::H_SUCCESS));
        if (round == 0) REQUIRE(s->reg(0, tce::kPageSize) == hcall::H_SUCCESS);
        CHECK(rdma::window(srv.lpar->vio, s->remote_liobn()) == &c->window());
        REQUIRE(client.lpar->stop("test"));
        vio::release(*client.lpar);
        CHECK(client.lpar->vio.crq_at(0) == nullptr);
        CHECK(c->lpar() == nullptr);
        CHECK(s->partner() == nullptr); // the server reaches nothing of the old client
        CHECK(rdma::window(srv.lpar->vio, s->remote_liobn()) == nullptr);
        CHECK(s->send(u64{0x80} << 56, 0) == hcall::H_CLOSED);
    }
    vio::release(*srv.lpar);
}

TEST_CASE("vio devices: attach_lan_list and release() share the tables with configured LANs") {
    test::MemoryLpar a(1, kChunkSize, 3), b(1, kChunkSize, 4);
    rt::str_copy(a.lpar->name, "la", sizeof a.lpar->name);
    rt::str_copy(b.lpar->name, "lb", sizeof b.lpar->name);
    char why[96] = "";
    REQUIRE(vio::attach_lan_list(*a.lpar, "rtnet", why, sizeof why));
    CHECK_FALSE(vio::attach_lan_list(*b.lpar, "rtnet,bad/name", why, sizeof why));
    CHECK(std::string(why).find("bad/name") != std::string::npos);
    CHECK(b.lpar->vio.lan_at(0) == nullptr); // all or nothing
    llan::Adapter* a0 = a.lpar->vio.lan_at(0);
    REQUIRE(a0);
    CHECK(a0->lan()->member_count() == 1);
    REQUIRE(vio::attach_lan_list(*b.lpar, "rtnet", why, sizeof why));
    CHECK(a0->lan()->member_count() == 2);
    vio::release(*a.lpar);
    vio::release(*b.lpar);
    CHECK(a0->lpar() == nullptr);
}
