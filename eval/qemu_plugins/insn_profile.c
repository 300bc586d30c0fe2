/* insn_profile.c: a QEMU TCG plugin that profiles a Cortex-M firmware in ONE run:
 *   - executed instructions per labelled PC range, split by phase;
 *   - data loads from one address window (the memory-mapped QSPI flash) through a simulated
 *     set-associative LRU data cache of its own (the window alone), and every cacheable data
 *     access (loads and stores outside the uncached ranges, e.g. DTCM) through a second one, so
 *     the window's misses are known both with the cache to itself and shared with SRAM traffic.
 *
 * Built and driven by eval/bench_firmware.py (build_profile_plugin, profile_run); by hand:
 *   gcc -O2 -shared -fPIC -I<dir of qemu-plugin.h> $(pkg-config --cflags glib-2.0) insn_profile.c \
 *       -o insn_profile.so $(pkg-config --libs glib-2.0)
 *   qemu-system-arm -M mps2-an500 ... -plugin insn_profile.so,spec=labels.txt -d plugin
 * qemu-plugin.h is QEMU's plugin header of the qemu-system-arm that runs it (not in this repository):
 * `sh ../shared/tools/qemu-insn/build.sh build/qemu-insn` fetches it (Debian's qemu source package).
 *
 * spec file (one directive per line, numbers in C syntax):
 *   label NAME                 declare labels in order (index 0 = the first); "shared" is special
 *   range LO HI LABEL SHARED   PCs [LO, HI) belong to LABEL; SHARED=1: the range is library code
 *                              (CMSIS-NN, libc, libm, ...) whose instructions and accesses count
 *                              for the label of the last non-shared range executed (its caller)
 *   phase PC NAME              when PC executes, the phase becomes NAME (phase 0 = "start")
 *   mark PC NAME               count executions of PC (e.g. one per model window)
 *   window LO HI               the memory-mapped flash window [LO, HI)
 *   uncached LO HI             data accesses in [LO, HI) bypass the cache (DTCM, peripherals)
 *   cache SIZE WAYS LINE       cache geometry (default 16384 4 32: the STM32H743's L1 D-cache)
 *   memory 0|1                 0: count instructions only (no memory callbacks: faster)
 * PCs outside every range count for the label "other".
 *
 * Output (qemu_plugin_outs, i.e. stderr with -d plugin), one line each:
 *   prof total N
 *   prof insn PHASE LABEL N
 *   prof mark NAME N
 *   prof window PHASE LABEL LOADS BYTES MISSES_ALONE MISSES_SHARED SEQ_ALONE SEQ_SHARED
 * (SEQ_*: misses of the window's lines on the line right after the previous such miss of that cache,
 * i.e. ones a flash controller reading ahead would serve without a new command)
 *   prof data PHASE LABEL ACCESSES MISSES
 */
#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MAX_LABELS 64
#define MAX_PHASES 8
#define MAX_MARKS 16
#define MAX_UNCACHED 8

typedef struct { uint64_t lo, hi; int label, shared; } range_t;
typedef struct { int label, shared; uint64_t n; } segment_t;   /* one run of a TB's instructions */
typedef struct { uint64_t pc; int phase; int mark; } hook_t;

typedef struct {
    unsigned sets, ways, line_shift;
    uint32_t *tag;     /* sets * ways, line address + 1 (0 = empty) */
    uint64_t *age;     /* sets * ways, last-use stamp */
    uint64_t stamp;
} cache_t;

static char *labels[MAX_LABELS];
static int n_labels, other_label;
static range_t *ranges;
static int n_ranges;
static char *phase_names[MAX_PHASES] = {"start"};
static int n_phases = 1;
static hook_t hooks[2 * MAX_MARKS + MAX_PHASES];
static int n_hooks;
static char *mark_names[MAX_MARKS];
static uint64_t mark_count[MAX_MARKS];
static int n_marks;
static uint64_t win_lo, win_hi;
static uint64_t unc_lo[MAX_UNCACHED], unc_hi[MAX_UNCACHED];
static int n_unc;
static unsigned c_size = 16384, c_ways = 4, c_line = 32;
static int with_memory = 1;

static cache_t c_alone, c_all;
static int phase, ctx, attr;   /* current phase; label of the last non-shared range; label charged now */
static uint64_t total;
static uint64_t insns[MAX_PHASES][MAX_LABELS];
static uint64_t w_loads[MAX_PHASES][MAX_LABELS], w_bytes[MAX_PHASES][MAX_LABELS];
static uint64_t w_miss_alone[MAX_PHASES][MAX_LABELS], w_miss_shared[MAX_PHASES][MAX_LABELS];
/* window misses on the line right after the previous window miss (per cache) */
static uint64_t w_seq_alone[MAX_PHASES][MAX_LABELS], w_seq_shared[MAX_PHASES][MAX_LABELS];
static uint64_t last_alone = ~0ull, last_shared = ~0ull;
static uint64_t d_acc[MAX_PHASES][MAX_LABELS], d_miss[MAX_PHASES][MAX_LABELS];

static void cache_init(cache_t *c)
{
    unsigned lines = c_size / c_line;
    c->ways = c_ways;
    c->sets = lines / c_ways;
    c->line_shift = 0;
    while ((1u << c->line_shift) < c_line) c->line_shift++;
    c->tag = g_new0(uint32_t, lines);
    c->age = g_new0(uint64_t, lines);
}

/* one access to line address `line`: returns 1 on a miss (the line is then allocated, LRU victim) */
static int cache_touch(cache_t *c, uint32_t line)
{
    uint32_t *tag = c->tag + (line % c->sets) * c->ways;
    uint64_t *age = c->age + (line % c->sets) * c->ways;
    unsigned victim = 0;
    c->stamp++;
    for (unsigned w = 0; w < c->ways; w++) {
        if (tag[w] == line + 1) {
            age[w] = c->stamp;
            return 0;
        }
        if (age[w] < age[victim]) victim = w;
    }
    tag[victim] = line + 1;
    age[victim] = c->stamp;
    return 1;
}

static void on_segment(unsigned int vcpu, void *ud)
{
    const segment_t *s = ud;
    (void)vcpu;
    if (!s->shared) ctx = s->label;
    attr = s->shared ? ctx : s->label;
    insns[phase][attr] += s->n;
}

static void on_hook(unsigned int vcpu, void *ud)
{
    const hook_t *h = ud;
    (void)vcpu;
    if (h->phase >= 0) phase = h->phase;
    if (h->mark >= 0) mark_count[h->mark]++;
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t va, void *ud)
{
    (void)vcpu, (void)ud;
    unsigned size = 1u << qemu_plugin_mem_size_shift(info);
    int store = qemu_plugin_mem_is_store(info);
    int in_win = va >= win_lo && va < win_hi;
    if (in_win && !store) {
        w_loads[phase][attr]++;
        w_bytes[phase][attr] += size;
        uint64_t first = va >> c_alone.line_shift, last = (va + size - 1) >> c_alone.line_shift;
        for (uint64_t l = first; l <= last; l++)
            if (cache_touch(&c_alone, (uint32_t)l)) {
                w_miss_alone[phase][attr]++;
                if (l == last_alone + 1) w_seq_alone[phase][attr]++;
                last_alone = l;
            }
    }
    for (int i = 0; i < n_unc; i++)
        if (va >= unc_lo[i] && va < unc_hi[i]) return;
    uint64_t first = va >> c_all.line_shift, last = (va + size - 1) >> c_all.line_shift;
    d_acc[phase][attr]++;
    for (uint64_t l = first; l <= last; l++)
        if (cache_touch(&c_all, (uint32_t)l)) {
            d_miss[phase][attr]++;
            if (in_win && !store) {
                w_miss_shared[phase][attr]++;
                if (l == last_shared + 1) w_seq_shared[phase][attr]++;
                last_shared = l;
            }
        }
}

static int find_range(uint64_t pc)
{
    int lo = 0, hi = n_ranges;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (ranges[mid].hi <= pc) lo = mid + 1;
        else hi = mid;
    }
    return lo < n_ranges && ranges[lo].lo <= pc ? lo : -1;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    segment_t *seg = NULL;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        for (int h = 0; h < n_hooks; h++)
            if (hooks[h].pc == pc)
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_hook, QEMU_PLUGIN_CB_NO_REGS, &hooks[h]);
        int r = find_range(pc);
        int label = r < 0 ? other_label : ranges[r].label, shared = r < 0 ? 0 : ranges[r].shared;
        if (seg == NULL || seg->label != label || seg->shared != shared) {
            seg = g_new0(segment_t, 1);   /* lives as long as the TB may run: never freed */
            seg->label = label;
            seg->shared = shared;
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_segment, QEMU_PLUGIN_CB_NO_REGS, seg);
        }
        seg->n++;
        if (with_memory)
            qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, NULL);
    }
}

static void emit(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void emit(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    qemu_plugin_outs(buf);
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    (void)id, (void)p;
    for (int ph = 0; ph < n_phases; ph++)
        for (int l = 0; l < n_labels; l++) total += insns[ph][l];
    emit("prof total %" PRIu64 "\n", total);
    for (int m = 0; m < n_marks; m++) emit("prof mark %s %" PRIu64 "\n", mark_names[m], mark_count[m]);
    for (int ph = 0; ph < n_phases; ph++)
        for (int l = 0; l < n_labels; l++) {
            if (insns[ph][l]) emit("prof insn %s %s %" PRIu64 "\n", phase_names[ph], labels[l], insns[ph][l]);
            if (w_loads[ph][l])
                emit("prof window %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                     phase_names[ph], labels[l], w_loads[ph][l], w_bytes[ph][l], w_miss_alone[ph][l],
                     w_miss_shared[ph][l], w_seq_alone[ph][l], w_seq_shared[ph][l]);
            if (d_acc[ph][l])
                emit("prof data %s %s %" PRIu64 " %" PRIu64 "\n", phase_names[ph], labels[l], d_acc[ph][l], d_miss[ph][l]);
        }
}

static int label_index(const char *name)
{
    for (int i = 0; i < n_labels; i++)
        if (!strcmp(labels[i], name)) return i;
    if (n_labels == MAX_LABELS) return -1;
    labels[n_labels] = g_strdup(name);
    return n_labels++;
}

static int cmp_range(const void *a, const void *b)
{
    const range_t *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int read_spec(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "insn_profile: cannot open spec %s\n", path);
        return -1;
    }
    char line[1024], a[512], b[256];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi;
        int shared;
        if (sscanf(line, "label %511s", a) == 1) {
            if (label_index(a) < 0) goto bad;
        } else if (sscanf(line, "range %lli %lli %511s %d", &lo, &hi, a, &shared) == 4) {
            int l = label_index(a);
            if (l < 0 || hi < lo) goto bad;
            if (n_ranges == cap) ranges = g_renew(range_t, ranges, cap = cap ? 2 * cap : 1024);
            ranges[n_ranges++] = (range_t){lo, hi, l, shared};
        } else if (sscanf(line, "phase %lli %255s", &lo, b) == 2) {
            if (n_phases == MAX_PHASES) goto bad;
            phase_names[n_phases] = g_strdup(b);
            hooks[n_hooks++] = (hook_t){lo, n_phases++, -1};
        } else if (sscanf(line, "mark %lli %255s", &lo, b) == 2) {
            if (n_marks == MAX_MARKS) goto bad;
            mark_names[n_marks] = g_strdup(b);
            hooks[n_hooks++] = (hook_t){lo, -1, n_marks++};
        } else if (sscanf(line, "window %lli %lli", &lo, &hi) == 2) {
            win_lo = lo, win_hi = hi;
        } else if (sscanf(line, "uncached %lli %lli", &lo, &hi) == 2) {
            if (n_unc == MAX_UNCACHED) goto bad;
            unc_lo[n_unc] = lo, unc_hi[n_unc++] = hi;
        } else if (sscanf(line, "cache %u %u %u", &c_size, &c_ways, &c_line) == 3) {
            if (!c_ways || !c_line || (c_line & (c_line - 1)) || c_size % (c_ways * c_line)) goto bad;
        } else if (sscanf(line, "memory %d", &with_memory) == 1) {
        } else if (line[0] != '#' && line[0] != '\n') {
            goto bad;
        }
    }
    fclose(f);
    qsort(ranges, n_ranges, sizeof *ranges, cmp_range);
    for (int i = 1; i < n_ranges; i++)
        if (ranges[i].lo < ranges[i - 1].hi) {
            fprintf(stderr, "insn_profile: overlapping ranges at %#llx\n", (unsigned long long)ranges[i].lo);
            return -1;
        }
    other_label = label_index("other");
    return other_label < 0 ? -1 : 0;
bad:
    fclose(f);
    fprintf(stderr, "insn_profile: bad spec line in %s: %s", path, line);
    return -1;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    const char *spec = NULL;
    for (int i = 0; i < argc; i++)
        if (!strncmp(argv[i], "spec=", 5)) spec = argv[i] + 5;
    if (spec == NULL) {
        fprintf(stderr, "insn_profile: give spec=FILE\n");
        return -1;
    }
    if (read_spec(spec) != 0) return -1;
    cache_init(&c_alone);
    cache_init(&c_all);
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
