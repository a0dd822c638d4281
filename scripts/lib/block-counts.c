/*
 * A QEMU TCG plugin for scripts/op-profile: counts how often each translated block runs and
 * writes, when QEMU exits, one line per block that ran:
 *
 *     <guest virtual address of the block, hex> <instructions in it> <times it ran>
 *
 * Loaded with `-plugin <this .so>,out=FILE`. The counters are incremented inline by the
 * translated code (no call per block), so a guest runs at most a few times slower; they are
 * not atomic, so with several vCPUs a count may come out a little low. A block that QEMU
 * translates again (after its code changed, or a flush of the translation cache) gets a line of
 * its own: add lines of the same address.
 *
 * QEMU installs no header for its plugin interface (Debian's packages have none), so the few
 * calls this uses are declared here, as QEMU 7.2 defines them (plugin API version 1).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct {
    const char *target_name;
    struct {
        int min, cur;
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus, max_vcpus;
        } system;
    };
} qemu_info_t;
enum { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, int op, void *ptr,
                                              uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, void *),
                                    void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);

EXPORT int qemu_plugin_version = 1;

struct block {
    uint64_t runs; /* incremented by the translated code */
    uint64_t vaddr;
    size_t insns;
    struct block *next;
};

/* QEMU translates one block at a time (under its translation lock): no lock of our own. */
static struct block *blocks;
static const char *out_path;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    struct block *b = calloc(1, sizeof *b);
    if (b == NULL) return; /* not counted: better than stopping the machine */
    b->vaddr = qemu_plugin_tb_vaddr(tb);
    b->insns = qemu_plugin_tb_n_insns(tb);
    b->next = blocks;
    blocks = b;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->runs, 1);
}

static void on_qemu_exit(qemu_plugin_id_t id, void *userdata) {
    (void)id;
    (void)userdata;
    FILE *f = fopen(out_path, "w");
    if (f == NULL) {
        fprintf(stderr, "block-counts: cannot write %s\n", out_path);
        return;
    }
    for (const struct block *b = blocks; b != NULL; b = b->next)
        if (b->runs != 0)
            fprintf(f, "%llx %zu %llu\n", (unsigned long long)b->vaddr, b->insns,
                    (unsigned long long)b->runs);
    fclose(f);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                               char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], "out=", 4) == 0) out_path = argv[i] + 4;
    if (out_path == NULL) {
        fprintf(stderr, "block-counts: give the output file: -plugin block-counts.so,out=FILE\n");
        return 1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
    return 0;
}
