/*
 * rewrap-floor: the floor for `hearth keys rewrap`, without any of Hearth's code. It does the same
 * work with raw libsodium and the SQLite C API: for every consent wrap of SCOPE at key version
 * FROM, in record-row-id order and BATCH wraps at a time,
 *   read   the same JOIN as Hearth (wrap, record id, commitment), keyset-paginated;
 *   open   X25519 + BLAKE2b KDF + XChaCha20-Poly1305 decrypt + commitment check (SECURITY.md §3.5, §3.7);
 *   seal   a fresh ephemeral X25519 pair to the scope's highest-version public key in KEYDIR;
 *   write  the same compare-and-set UPDATE as Hearth, one transaction per batch;
 * with the crypto of each batch split over THREADS threads (default 2), and the same connection
 * settings as Hearth (WAL, synchronous=FULL, secure_delete=ON, foreign_keys=ON, 64 MiB cache).
 *
 *   rewrap-seed export-key KEYDIR SCOPE FROM | rewrap-floor DB KEYDIR SCOPE FROM [BATCH] [THREADS]
 *
 * The FROM private key (32 bytes) is read from stdin and kept in memory only.
 * Build: gcc -O2 -pthread -o rewrap-floor rewrap-floor.c -lsodium -lsqlite3
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WRAP_BYTES 105

static const char *const SCOPE_NAMES[] = {"", "support", "review", "police", "prosecution"};

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("rewrap-floor: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void put_u32be(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t get_u32be(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void read_public(const char *dir, int scope, uint32_t version, uint8_t pk[32]) {
    char path[4096];
    uint8_t b[46];
    snprintf(path, sizeof path, "%s/%s.v%" PRIu32 ".pub", dir, SCOPE_NAMES[scope], version);
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open %s: %s", path, strerror(errno));
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n != 45 || memcmp(b, "HRTHPUB1", 8) != 0 || b[8] != scope || get_u32be(b + 9) != version) die("%s: not a valid public key file", path);
    memcpy(pk, b + 13, 32);
}

/* The primary version: the highest N with a <scope>.v<N>.pub file. */
static uint32_t primary_version(const char *dir, const char *scope) {
    DIR *d = opendir(dir);
    if (!d) die("cannot open %s", dir);
    uint32_t best = 0;
    size_t sl = strlen(scope);
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        size_t l = strlen(n);
        if (l > sl + 6 && strncmp(n, scope, sl) == 0 && n[sl] == '.' && n[sl + 1] == 'v' && strcmp(n + l - 4, ".pub") == 0) {
            char *end;
            unsigned long v = strtoul(n + sl + 2, &end, 10);
            if (end == n + l - 4 && v > best) best = (uint32_t)v;
        }
    }
    closedir(d);
    return best;
}

typedef struct {
    sqlite3_int64 rid;
    uint8_t id[10], commitment[32], wrap[WRAP_BYTES], fresh[WRAP_BYTES];
    int ok;
} Item;

static struct {
    int scope;
    uint32_t from, to;
    uint8_t sk[32], pk_from[32], pk_to[32];
} K;

static void wrap_ad(uint8_t ad[38], const uint8_t rid[10], uint32_t version) {
    memcpy(ad, "hearth/v1/consent-wrap", 22);
    ad[22] = 1;
    memcpy(ad + 23, rid, 10);
    ad[33] = (uint8_t)K.scope;
    put_u32be(ad + 34, version);
}

static void wrap_key(uint8_t k[32], const uint8_t shared[32], const uint8_t eph[32], const uint8_t pk[32]) {
    uint8_t m[26 + 64];
    memcpy(m, "hearth/v1/consent-wrap-key", 26);
    memcpy(m + 26, eph, 32);
    memcpy(m + 58, pk, 32);
    crypto_generichash(k, 32, m, sizeof m, shared, 32);
}

/* Open with the FROM key, check the commitment, seal to the TO key. */
static int rewrap(Item *it) {
    uint8_t shared[32], k[32], ad[38], dek[32], c[32], m[30], esk[32];
    unsigned long long n = 0;
    int rc = -1;
    if (it->wrap[0] != 1 || crypto_scalarmult(shared, K.sk, it->wrap + 1) != 0) goto out;
    wrap_key(k, shared, it->wrap + 1, K.pk_from);
    wrap_ad(ad, it->id, K.from);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(dek, &n, NULL, it->wrap + 57, 48, ad, 38, it->wrap + 33, k) != 0) goto out;
    memcpy(m, "hearth/v1/commitment", 20);
    memcpy(m + 20, it->id, 10);
    crypto_generichash(c, 32, m, sizeof m, dek, 32);
    if (sodium_memcmp(c, it->commitment, 32) != 0) goto out;
    uint8_t *o = it->fresh;
    randombytes_buf(esk, 32);
    crypto_scalarmult_base(o + 1, esk);
    if (crypto_scalarmult(shared, esk, K.pk_to) != 0) goto out;
    wrap_key(k, shared, o + 1, K.pk_to);
    o[0] = 1;
    randombytes_buf(o + 33, 24);
    wrap_ad(ad, it->id, K.to);
    crypto_aead_xchacha20poly1305_ietf_encrypt(o + 57, &n, dek, 32, ad, 38, NULL, o + 33, k);
    rc = 0;
out:
    sodium_memzero(shared, 32);
    sodium_memzero(k, 32);
    sodium_memzero(dek, 32);
    sodium_memzero(esk, 32);
    return rc;
}

typedef struct { Item *items; int n; } Slice;

static void *crypto_worker(void *arg) {
    Slice *s = arg;
    for (int i = 0; i < s->n; i++) s->items[i].ok = rewrap(&s->items[i]) == 0;
    return NULL;
}

static void exec(sqlite3 *db, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) die("%s: %s", sql, err ? err : "?");
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) die("%s: %s", sql, sqlite3_errmsg(db));
    return s;
}

int main(int argc, char **argv) {
    if (argc < 5 || argc > 7) {
        fprintf(stderr, "usage: rewrap-seed export-key KEYDIR SCOPE FROM | rewrap-floor DB KEYDIR SCOPE FROM [BATCH] [THREADS]\n");
        return 2;
    }
    const char *dbpath = argv[1], *keydir = argv[2];
    int batch = argc >= 6 ? atoi(argv[5]) : 500;
    int threads = argc >= 7 ? atoi(argv[6]) : 2;
    if (batch < 1 || batch > 100000 || threads < 1 || threads > 64) die("bad BATCH or THREADS");
    if (sodium_init() < 0) die("sodium_init failed");
    for (int i = 1; i <= 4; i++)
        if (strcmp(argv[3], SCOPE_NAMES[i]) == 0) K.scope = i;
    if (!K.scope) die("unknown scope %s", argv[3]);
    K.from = (uint32_t)strtoul(argv[4], NULL, 10);
    K.to = primary_version(keydir, argv[3]);
    if (K.to <= K.from) die("%s v%u is the primary version; rotate first", argv[3], K.from);
    if (fread(K.sk, 1, 32, stdin) != 32) die("expected the 32-byte %s v%u private key on stdin", argv[3], K.from);
    read_public(keydir, K.scope, K.from, K.pk_from);
    read_public(keydir, K.scope, K.to, K.pk_to);
    uint8_t derived[32];
    crypto_scalarmult_base(derived, K.sk);
    if (sodium_memcmp(derived, K.pk_from, 32) != 0) die("the key on stdin is not the %s v%u private key", argv[3], K.from);

    sqlite3 *db;
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) die("cannot open %s", dbpath);
    sqlite3_busy_timeout(db, 10000);
    exec(db, "PRAGMA secure_delete = ON");
    exec(db, "PRAGMA synchronous = FULL");
    exec(db, "PRAGMA temp_store = MEMORY");
    exec(db, "PRAGMA cache_size = -65536");
    exec(db, "PRAGMA foreign_keys = ON");
    exec(db, "PRAGMA journal_mode = WAL");
    exec(db, "PRAGMA synchronous = FULL");

    sqlite3_stmt *sel = prepare(db,
        "SELECT w.record_rid, r.id, r.commitment, w.wrap FROM consent_wraps w JOIN records r ON r.rid = w.record_rid "
        "WHERE w.scope = ? AND w.key_version = ? AND w.record_rid > ? ORDER BY w.record_rid LIMIT ?");
    sqlite3_stmt *upd = prepare(db,
        "UPDATE consent_wraps SET wrap = ?, key_version = ? WHERE record_rid = ? AND scope = ? AND key_version = ? AND wrap = ?");
    Item *items = malloc(sizeof(Item) * (size_t)batch);
    Slice *slices = malloc(sizeof(Slice) * (size_t)threads);
    pthread_t *tids = malloc(sizeof(pthread_t) * (size_t)threads);
    if (!items || !slices || !tids) die("out of memory");

    long done = 0, skipped = 0, failed = 0, batches = 0;
    double t_read = 0, t_crypto = 0, t_write = 0, start = now_s();
    sqlite3_int64 after = 0;
    for (;;) {
        double t0 = now_s();
        sqlite3_bind_text(sel, 1, SCOPE_NAMES[K.scope], -1, SQLITE_STATIC);
        sqlite3_bind_int64(sel, 2, K.from);
        sqlite3_bind_int64(sel, 3, after);
        sqlite3_bind_int(sel, 4, batch);
        int n = 0, rc;
        while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
            Item *it = &items[n];
            it->rid = sqlite3_column_int64(sel, 0);
            it->ok = 0;
            if (sqlite3_column_bytes(sel, 1) != 10 || sqlite3_column_bytes(sel, 2) != 32 || sqlite3_column_bytes(sel, 3) != WRAP_BYTES) {
                memset(it->wrap, 0, WRAP_BYTES); /* fails to open below, counted as failed */
            } else {
                memcpy(it->id, sqlite3_column_blob(sel, 1), 10);
                memcpy(it->commitment, sqlite3_column_blob(sel, 2), 32);
                memcpy(it->wrap, sqlite3_column_blob(sel, 3), WRAP_BYTES);
            }
            n++;
        }
        if (rc != SQLITE_DONE) die("select: %s", sqlite3_errmsg(db));
        sqlite3_reset(sel);
        if (n == 0) break;
        after = items[n - 1].rid;
        double t1 = now_s();

        /* Crypto: THREADS slices; this thread takes the first. */
        int per = (n + threads - 1) / threads, used = 0;
        for (int s = 0; s < threads && s * per < n; s++) {
            slices[s].items = items + s * per;
            slices[s].n = (s + 1) * per > n ? n - s * per : per;
            used++;
        }
        for (int s = 1; s < used; s++) pthread_create(&tids[s], NULL, crypto_worker, &slices[s]);
        crypto_worker(&slices[0]);
        for (int s = 1; s < used; s++) pthread_join(tids[s], NULL);
        double t2 = now_s();

        exec(db, "BEGIN IMMEDIATE");
        for (int i = 0; i < n; i++) {
            Item *it = &items[i];
            if (!it->ok) { failed++; continue; }
            sqlite3_bind_blob(upd, 1, it->fresh, WRAP_BYTES, SQLITE_STATIC);
            sqlite3_bind_int64(upd, 2, K.to);
            sqlite3_bind_int64(upd, 3, it->rid);
            sqlite3_bind_text(upd, 4, SCOPE_NAMES[K.scope], -1, SQLITE_STATIC);
            sqlite3_bind_int64(upd, 5, K.from);
            sqlite3_bind_blob(upd, 6, it->wrap, WRAP_BYTES, SQLITE_STATIC);
            if (sqlite3_step(upd) != SQLITE_DONE) die("update: %s", sqlite3_errmsg(db));
            sqlite3_reset(upd);
            if (sqlite3_changes(db) == 1) done++; else skipped++;
        }
        exec(db, "COMMIT");
        double t3 = now_s();
        t_read += t1 - t0;
        t_crypto += t2 - t1;
        t_write += t3 - t2;
        batches++;
    }
    double total = now_s() - start;
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    sqlite3_close(db);
    sodium_memzero(K.sk, 32);
    printf("floor: %s: %ld re-wrapped, %ld left alone, %ld not opening; %ld batches of %d, %d crypto threads\n",
           SCOPE_NAMES[K.scope], done, skipped, failed, batches, batch, threads);
    printf("floor: %.2f s in the loop (read %.2f s, crypto %.2f s, write+commit %.2f s), %.0f wraps/s\n",
           total, t_read, t_crypto, t_write, total > 0 ? done / total : 0.0);
    return failed == 0 ? 0 : 1;
}
