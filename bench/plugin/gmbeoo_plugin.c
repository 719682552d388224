/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gmbeoo_plugin: the GMBEOO record stream produced by a TCG plugin instead
 * of by our patched QEMU's inline hook, so `make bench` can compare the two
 * on the same emulator binary.  It writes the same 16-byte records
 * (include/gmbeoo/record.h) to a FIFO or file: one per guest data access,
 * via qemu_plugin_register_vcpu_mem_cb, in access order per vCPU (vCPUs
 * interleave at buffer granularity).
 *
 * CPL.  QEMU 7.2's plugin API exposes neither the CPL nor the access's MMU
 * index.  The plugin takes it at translation time from the instruction's
 * own address: code in the upper canonical half (bit 63 set) is the
 * kernel's, so its accesses get cpl 0, and everything else gets cpl 3.  That
 * is right for ordinary Linux guests; it is wrong for user code in the
 * legacy vsyscall page and for helper-made accesses (interrupt frame pushes
 * are not reported to plugins at all in 7.2).
 *
 * Output.  The vCPU fills a buffer of records; a full buffer goes to a
 * writer thread that owns the descriptor (opened lazily, so opening a FIFO
 * never blocks QEMU's start-up).  Until the descriptor is open, records are
 * dropped and counted; once it is open the vCPU waits for a free buffer, so
 * the stream is lossless, like a full-rate GMBEOO run with no drops.
 *
 * options (-plugin gmbeoo_plugin.so,out=PATH[,buf_kib=N][,nbuf=N]):
 *   out=PATH   where the records go (required)
 *   buf_kib=N  size of one buffer in KiB (default 256)
 *   nbuf=N     buffers in the pool (default 16)
 *   stats=PATH also write the exit line to PATH
 * At exit it prints `gmbeoo_plugin: records=N dropped=N` through QEMU's log
 * (seen with -d plugin).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qemu-plugin.h>

#include "gmbeoo/record.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MAX_VCPUS 64

typedef struct Buffer {
    GmbeooRecord *rec;
    size_t used;                /* records filled */
    struct Buffer *next;        /* in the free list or the full queue */
} Buffer;

/* meminfo -> word0, memoised: the qemu_plugin_mem_* queries are calls into
 * QEMU, four per access otherwise.  A few distinct meminfo values (size,
 * sign, store, MMU index) cover almost every access. */
#define MEMO_SLOTS 64
typedef struct Memo {
    uint32_t info;
    uint32_t valid;             /* bit cpl set: word0[cpl] is filled */
    uint64_t word0[4];          /* indexed by cpl */
} Memo;

typedef struct Vcpu {
    Buffer *cur;                /* owned by this vCPU's thread */
    Memo memo[MEMO_SLOTS];
    uint64_t dropped;
} Vcpu;

static const char *out_path;
static const char *stats_path;  /* optional: the exit line goes here too */
static size_t buf_records = 256 * 1024 / GMBEOO_RECORD_SIZE;
static unsigned nbuf = 16;

static Vcpu vcpus[MAX_VCPUS];

/* The pool.  `lock` guards everything below it. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static Buffer *free_list;
static Buffer *full_head, *full_tail;
static int out_fd = -1;         /* set once by the writer thread */
static int out_failed;          /* open or write failed: drop from now on */
static int stopping;
static uint64_t written_records;
static pthread_t writer;

static uint64_t word0_of(qemu_plugin_meminfo_t info, unsigned cpl)
{
    return gmbeoo_word0(gmbeoo_info(qemu_plugin_mem_size_shift(info),
                                     qemu_plugin_mem_is_sign_extended(info),
                                     qemu_plugin_mem_is_big_endian(info),
                                     qemu_plugin_mem_is_store(info), cpl));
}

static void write_all(int fd, const void *p, size_t len)
{
    const char *c = p;

    while (len > 0 && !out_failed) {
        ssize_t n = write(fd, c, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "gmbeoo_plugin: write %s: %s\n", out_path, strerror(errno));
            out_failed = 1;     /* a plain int: only this thread writes it */
            return;
        }
        c += n;
        len -= (size_t)n;
    }
}

static void *writer_main(void *arg)
{
    int fd = open(out_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    long max = 0;
    FILE *f;

    (void)arg;
    if (fd >= 0 && (f = fopen("/proc/sys/fs/pipe-max-size", "r")) != NULL) {
        if (fscanf(f, "%ld", &max) == 1) {
            fcntl(fd, F_SETPIPE_SZ, (int)max);  /* fails harmlessly on a file */
        }
        fclose(f);
    }
    pthread_mutex_lock(&lock);
    if (fd < 0) {
        fprintf(stderr, "gmbeoo_plugin: open %s: %s\n", out_path, strerror(errno));
        out_failed = 1;
    }
    out_fd = fd;
    pthread_cond_broadcast(&cond);
    for (;;) {
        while (full_head == NULL && !stopping) {
            pthread_cond_wait(&cond, &lock);
        }
        Buffer *b = full_head;
        if (b == NULL) {
            break;              /* stopping and nothing left */
        }
        full_head = b->next;
        if (full_head == NULL) {
            full_tail = NULL;
        }
        pthread_mutex_unlock(&lock);
        if (fd >= 0) {
            write_all(fd, b->rec, b->used * GMBEOO_RECORD_SIZE);
        }
        pthread_mutex_lock(&lock);
        written_records += b->used;
        b->used = 0;
        b->next = free_list;
        free_list = b;
        pthread_cond_broadcast(&cond);
    }
    pthread_mutex_unlock(&lock);
    if (fd >= 0) {
        close(fd);
    }
    return NULL;
}

/* Hand the vCPU's full buffer to the writer and take an empty one.  Before
 * the output is open (or after it failed) the records are dropped. */
static void flip(Vcpu *v)
{
    pthread_mutex_lock(&lock);
    if (out_fd < 0 || out_failed) {
        v->dropped += v->cur->used;
        v->cur->used = 0;
        pthread_mutex_unlock(&lock);
        return;
    }
    Buffer *b = v->cur;
    b->next = NULL;
    if (full_tail) {
        full_tail->next = b;
    } else {
        full_head = b;
    }
    full_tail = b;
    pthread_cond_broadcast(&cond);
    while (free_list == NULL) {
        pthread_cond_wait(&cond, &lock);
    }
    v->cur = free_list;
    free_list = free_list->next;
    pthread_mutex_unlock(&lock);
}

static void vcpu_mem(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                     uint64_t vaddr, void *udata)
{
    Vcpu *v = &vcpus[vcpu_index];
    unsigned cpl = (unsigned)(uintptr_t)udata;
    Buffer *b = v->cur;

    Memo *m = &v->memo[(info ^ (info >> 6) ^ (info >> 16)) % MEMO_SLOTS];

    if (m->info != info) {
        m->info = info;
        m->valid = 0;
    }
    if (!(m->valid & (1u << cpl))) {
        m->word0[cpl] = word0_of(info, cpl);
        m->valid |= 1u << cpl;
    }
    b->rec[b->used].word0 = m->word0[cpl];
    b->rec[b->used].vaddr = vaddr;
    if (++b->used == buf_records) {
        flip(v);
    }
}

static Buffer *new_buffer(void)
{
    Buffer *b = calloc(1, sizeof(*b));

    if (b == NULL || (b->rec = malloc(buf_records * GMBEOO_RECORD_SIZE)) == NULL) {
        fprintf(stderr, "gmbeoo_plugin: out of memory\n");
        free(b);
        return NULL;
    }
    return b;
}

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index)
{
    (void)id;
    if (vcpu_index >= MAX_VCPUS) {
        fprintf(stderr, "gmbeoo_plugin: more than %d vCPUs\n", MAX_VCPUS);
        abort();
    }
    vcpus[vcpu_index].cur = new_buffer();
    if (vcpus[vcpu_index].cur == NULL) {
        abort();
    }
}

static void vcpu_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);

    (void)id;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uintptr_t cpl = (qemu_plugin_insn_vaddr(insn) >> 63) ? 0 : 3;

        qemu_plugin_register_vcpu_mem_cb(insn, vcpu_mem, QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_RW, (void *)cpl);
    }
}

static void plugin_exit(qemu_plugin_id_t id, void *p)
{
    uint64_t dropped = 0;
    char msg[128];

    (void)id;
    (void)p;
    /* The vCPUs are stopped by now: flush what they hold. */
    for (unsigned i = 0; i < MAX_VCPUS; i++) {
        if (vcpus[i].cur && vcpus[i].cur->used) {
            flip(&vcpus[i]);
        }
        dropped += vcpus[i].dropped;
    }
    pthread_mutex_lock(&lock);
    stopping = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    pthread_join(writer, NULL);
    snprintf(msg, sizeof(msg), "gmbeoo_plugin: records=%" PRIu64 " dropped=%" PRIu64 "\n",
             written_records, dropped);
    qemu_plugin_outs(msg);
    if (stats_path) {
        FILE *f = fopen(stats_path, "w");
        if (f) {
            fputs(msg, f);
            fclose(f);
        }
    }
}

static int parse_uint(const char *opt, const char *val, unsigned long lo,
                      unsigned long hi, unsigned long *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(val, &end, 0);
    if (errno || *val == '\0' || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "gmbeoo_plugin: %s must be an integer in [%lu, %lu], not '%s'\n",
                opt, lo, hi, val);
        return -1;
    }
    *out = v;
    return 0;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info,
                                           int argc, char **argv)
{
    unsigned long v;

    (void)info;
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "gmbeoo_plugin: option '%s' is not key=value\n", argv[i]);
            return -1;
        }
        if (strncmp(argv[i], "out=", 4) == 0) {
            out_path = eq + 1;
        } else if (strncmp(argv[i], "stats=", 6) == 0) {
            stats_path = eq + 1;
        } else if (strncmp(argv[i], "buf_kib=", 8) == 0) {
            if (parse_uint("buf_kib", eq + 1, 4, 1u << 20, &v) < 0) {
                return -1;
            }
            buf_records = v * 1024 / GMBEOO_RECORD_SIZE;
        } else if (strncmp(argv[i], "nbuf=", 5) == 0) {
            if (parse_uint("nbuf", eq + 1, 2, 4096, &v) < 0) {
                return -1;
            }
            nbuf = (unsigned)v;
        } else {
            fprintf(stderr, "gmbeoo_plugin: unknown option '%s' (out=, stats=, buf_kib=, nbuf=)\n",
                    argv[i]);
            return -1;
        }
    }
    if (out_path == NULL || *out_path == '\0') {
        fprintf(stderr, "gmbeoo_plugin: out=PATH is required\n");
        return -1;
    }
    /* The pool; each vCPU gets its own buffer in vcpu_init. */
    for (unsigned i = 0; i < nbuf; i++) {
        Buffer *b = new_buffer();
        if (b == NULL) {
            return -1;
        }
        b->next = free_list;
        free_list = b;
    }
    if (pthread_create(&writer, NULL, writer_main, NULL) != 0) {
        fprintf(stderr, "gmbeoo_plugin: cannot start the writer thread\n");
        return -1;
    }
    pthread_setname_np(writer, "plugin-writer");  /* for perf and top */
    qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
    qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans);
    qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
    return 0;
}
