/*
 * rewrap-seed: fills a migrated Hearth database with records that each hold two real consent
 * wraps (support and police, key version 1), each with its real conversation wrap beside it (a
 * random conversation key sealed to the same key), for the `hearth keys rewrap` benchmark.
 *
 *   rewrap-seed seed DB KEYDIR N [THREADS]      add N records (2 consent wraps each)
 *   rewrap-seed verify DB KEYDIR COUNT           open the wraps of COUNT random records with the
 *                                                scope private keys (any version) and check the
 *                                                commitment; exit 1 if one does not open
 *   rewrap-seed counts DB                        print "scope vN count" per scope and key version
 *   rewrap-seed export-key KEYDIR SCOPE VERSION  write that scope's 32-byte X25519 private key
 *                                                (opened with master.key) to stdout (a pipe)
 *
 * Formats (SECURITY.md): consent wrap §3.7, conversation wrap §3.13, commitment §3.5, key files §3.10. Only `master.key`
 * (raw 32 bytes) is supported, not a passphrase-derived `master.kdf`.
 * Build: gcc -O2 -pthread -o rewrap-seed rewrap-seed.c -lsodium -lsqlite3
 */
#define _GNU_SOURCE
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
#define BODY_BYTES 1065 /* 1 + 24 + 1 KiB bucket + 16 (§3.6) */
#define SURVIVOR_WRAP_BYTES 73
#define CHUNK 5000 /* records per worker chunk = per insert transaction */

static const char *const SCOPE_NAMES[] = {"", "support", "review", "police", "prosecution"};
static const char *const REGIONS[] = {
    "north-east", "north-west", "yorkshire-humber", "east-midlands", "west-midlands", "east",
    "london", "south-east", "south-west", "wales", "scotland", "northern-ireland"};

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("rewrap-seed: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static int scope_id(const char *name) {
    for (int i = 1; i <= 4; i++)
        if (strcmp(name, SCOPE_NAMES[i]) == 0) return i;
    die("unknown scope '%s'", name);
    return 0;
}

static void put_u32be(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t get_u32be(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Reads exactly n bytes of a file. */
static void read_exact(const char *path, uint8_t *out, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open %s: %s", path, strerror(errno));
    size_t got = fread(out, 1, n, f);
    int extra = fgetc(f);
    fclose(f);
    if (got != n || extra != EOF) die("%s is not %zu bytes", path, n);
}

/* <scope>.v<N>.pub: "HRTHPUB1" || kind || version (u32 BE) || key(32). */
static void read_public(const char *dir, int scope, uint32_t version, uint8_t pk[32]) {
    char path[4096];
    uint8_t b[45];
    snprintf(path, sizeof path, "%s/%s.v%" PRIu32 ".pub", dir, SCOPE_NAMES[scope], version);
    read_exact(path, b, sizeof b);
    if (memcmp(b, "HRTHPUB1", 8) != 0 || b[8] != scope || get_u32be(b + 9) != version)
        die("%s: bad header", path);
    memcpy(pk, b + 13, 32);
}

/* <scope>.v<N>.sealed: header(13) || nonce(24) || XChaCha20-Poly1305(key = BLAKE2b-256(key = master,
 * "hearth/v1/key-file"), private key(32), ad = header); checked against the .pub file. */
static void open_private(const char *dir, int scope, uint32_t version, uint8_t sk[32]) {
    char path[4096];
    uint8_t master[32], filekey[32], b[85], pk[32], derived[32];
    unsigned long long n = 0;
    snprintf(path, sizeof path, "%s/master.key", dir);
    if (access(path, F_OK) != 0) die("%s is missing (keys from a passphrase are not supported here)", path);
    read_exact(path, master, 32);
    static const char label[] = "hearth/v1/key-file";
    crypto_generichash(filekey, 32, (const uint8_t *)label, sizeof label - 1, master, 32);
    snprintf(path, sizeof path, "%s/%s.v%" PRIu32 ".sealed", dir, SCOPE_NAMES[scope], version);
    read_exact(path, b, sizeof b);
    uint8_t header[13];
    memcpy(header, "HRTHSEC1", 8);
    header[8] = (uint8_t)scope;
    put_u32be(header + 9, version);
    if (memcmp(b, header, 13) != 0) die("%s: bad header", path);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(sk, &n, NULL, b + 37, 48, header, 13, b + 13, filekey) != 0 || n != 32)
        die("%s does not open with master.key", path);
    sodium_memzero(master, 32);
    sodium_memzero(filekey, 32);
    read_public(dir, scope, version, pk);
    crypto_scalarmult_base(derived, sk);
    if (sodium_memcmp(derived, pk, 32) != 0) die("%s does not match its .pub file", path);
}

/* AD = label || 0x01 || record_id(10) || scope_id(1) || key_version(u32 BE): the consent wrap's
 * "hearth/v1/consent-wrap" (§3.7) or the conversation wrap's "hearth/v1/conversation-wrap" (§3.13). */
static size_t wrap_ad(uint8_t ad[64], const char *label, const uint8_t rid[10], int scope, uint32_t version) {
    size_t l = strlen(label);
    memcpy(ad, label, l);
    ad[l] = 1;
    memcpy(ad + l + 1, rid, 10);
    ad[l + 11] = (uint8_t)scope;
    put_u32be(ad + l + 12, version);
    return l + 16;
}

/* k = BLAKE2b-256(key = shared, kdf_label || eph_pk || scope_pk) */
static void wrap_key(uint8_t k[32], const char *kdf_label, const uint8_t shared[32], const uint8_t eph[32], const uint8_t pk[32]) {
    uint8_t m[64 + 64];
    size_t l = strlen(kdf_label);
    memcpy(m, kdf_label, l);
    memcpy(m + l, eph, 32);
    memcpy(m + l + 32, pk, 32);
    crypto_generichash(k, 32, m, l + 64, shared, 32);
}

/* §3.7: 0x01 || eph_pk(32) || nonce(24) || XChaCha20-Poly1305(k, secret, AD)(48); with `conversation`,
 * the conversation wrap's labels (§3.13) and the conversation key as the secret. */
static int seal_wrap(uint8_t out[WRAP_BYTES], const uint8_t secret[32], const uint8_t rid[10], int scope, uint32_t version,
                     const uint8_t pk[32], int conversation) {
    uint8_t esk[32], shared[32], k[32], ad[64];
    unsigned long long n = 0;
    randombytes_buf(esk, 32);
    crypto_scalarmult_base(out + 1, esk);
    if (crypto_scalarmult(shared, esk, pk) != 0) return -1;
    wrap_key(k, conversation ? "hearth/v1/conversation-wrap-key" : "hearth/v1/consent-wrap-key", shared, out + 1, pk);
    out[0] = 1;
    randombytes_buf(out + 33, 24);
    size_t adlen = wrap_ad(ad, conversation ? "hearth/v1/conversation-wrap" : "hearth/v1/consent-wrap", rid, scope, version);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + 57, &n, secret, 32, ad, adlen, NULL, out + 33, k);
    sodium_memzero(esk, 32);
    sodium_memzero(shared, 32);
    sodium_memzero(k, 32);
    return 0;
}

/* commitment = BLAKE2b-256(key = DEK, "hearth/v1/commitment" || record_id) (§3.5) */
static void commitment(uint8_t c[32], const uint8_t dek[32], const uint8_t rid[10]) {
    uint8_t m[30];
    memcpy(m, "hearth/v1/commitment", 20);
    memcpy(m + 20, rid, 10);
    crypto_generichash(c, 32, m, sizeof m, dek, 32);
}

/* Opens a wrap and checks the commitment; 0 on success. */
static int open_wrap(const uint8_t *w, int wlen, const uint8_t rid[10], int scope, uint32_t version,
                     const uint8_t sk[32], const uint8_t pk[32], const uint8_t *c, int clen) {
    uint8_t shared[32], k[32], ad[64], dek[32], expect[32];
    unsigned long long n = 0;
    if (wlen != WRAP_BYTES || w[0] != 1 || clen != 32) return -1;
    if (crypto_scalarmult(shared, sk, w + 1) != 0) return -1;
    wrap_key(k, "hearth/v1/consent-wrap-key", shared, w + 1, pk);
    size_t adlen = wrap_ad(ad, "hearth/v1/consent-wrap", rid, scope, version);
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(dek, &n, NULL, w + 57, 48, ad, adlen, w + 33, k);
    if (rc == 0) {
        commitment(expect, dek, rid);
        rc = sodium_memcmp(expect, c, 32);
    }
    sodium_memzero(dek, 32);
    sodium_memzero(shared, 32);
    sodium_memzero(k, 32);
    return rc;
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

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* ---- seed ---- */

typedef struct {
    uint8_t id[10], lookup[32], commitment[32], body[BODY_BYTES], survivor[SURVIVOR_WRAP_BYTES];
    uint8_t support[WRAP_BYTES], police[WRAP_BYTES], support_conversation[WRAP_BYTES], police_conversation[WRAP_BYTES];
    int64_t hour;
    int region; /* -1 = NULL */
} Row;

static struct {
    sqlite3 *db;
    sqlite3_stmt *ins_record, *ins_wrap;
    pthread_mutex_t lock, dblock;
    long total, next, done;
    uint8_t support_pk[32], police_pk[32];
    int64_t now_hour;
    double start;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER, .dblock = PTHREAD_MUTEX_INITIALIZER};

static void insert_chunk(const Row *rows, long n) {
    exec(S.db, "BEGIN");
    for (long i = 0; i < n; i++) {
        const Row *r = &rows[i];
        sqlite3_stmt *s = S.ins_record;
        sqlite3_bind_blob(s, 1, r->id, 10, SQLITE_STATIC);
        sqlite3_bind_blob(s, 2, r->lookup, 32, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, r->hour);
        if (r->region < 0) sqlite3_bind_null(s, 4);
        else sqlite3_bind_text(s, 4, REGIONS[r->region], -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 5, r->commitment, 32, SQLITE_STATIC);
        sqlite3_bind_blob(s, 6, r->body, BODY_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(s, 7, r->survivor, SURVIVOR_WRAP_BYTES, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE) die("insert record: %s", sqlite3_errmsg(S.db));
        sqlite3_reset(s);
        sqlite3_int64 rid = sqlite3_last_insert_rowid(S.db);
        for (int w = 0; w < 2; w++) {
            sqlite3_stmt *t = S.ins_wrap;
            sqlite3_bind_int64(t, 1, rid);
            sqlite3_bind_text(t, 2, w == 0 ? "support" : "police", -1, SQLITE_STATIC);
            sqlite3_bind_blob(t, 3, w == 0 ? r->support : r->police, WRAP_BYTES, SQLITE_STATIC);
            sqlite3_bind_blob(t, 4, w == 0 ? r->support_conversation : r->police_conversation, WRAP_BYTES, SQLITE_STATIC);
            if (sqlite3_step(t) != SQLITE_DONE) die("insert wrap: %s", sqlite3_errmsg(S.db));
            sqlite3_reset(t);
        }
    }
    exec(S.db, "COMMIT");
}

static void *seed_worker(void *arg) {
    (void)arg;
    Row *rows = malloc(sizeof(Row) * CHUNK);
    if (!rows) die("out of memory");
    for (;;) {
        pthread_mutex_lock(&S.lock);
        long start = S.next;
        long n = S.total - start < CHUNK ? S.total - start : CHUNK;
        S.next += n;
        pthread_mutex_unlock(&S.lock);
        if (n <= 0) break;
        for (long i = 0; i < n; i++) {
            Row *r = &rows[i];
            uint8_t dek[32];
            randombytes_buf(dek, 32);
            randombytes_buf(r->id, 10);
            randombytes_buf(r->lookup, 32);
            randombytes_buf(r->body, BODY_BYTES);
            r->body[0] = 1;
            randombytes_buf(r->survivor, SURVIVOR_WRAP_BYTES);
            r->survivor[0] = 1;
            commitment(r->commitment, dek, r->id);
            r->hour = S.now_hour - 3600 * (int64_t)randombytes_uniform(24 * 365);
            uint32_t g = randombytes_uniform(16);
            r->region = g < 12 ? (int)g : -1;
            /* Conversation keys are random here: only the survivor's receipt derives the real ones. */
            uint8_t conversation[32];
            randombytes_buf(conversation, 32);
            if (seal_wrap(r->support, dek, r->id, 1, 1, S.support_pk, 0) != 0 || seal_wrap(r->police, dek, r->id, 3, 1, S.police_pk, 0) != 0 ||
                seal_wrap(r->support_conversation, conversation, r->id, 1, 1, S.support_pk, 1) != 0 ||
                seal_wrap(r->police_conversation, conversation, r->id, 3, 1, S.police_pk, 1) != 0)
                die("low-order scope public key");
            sodium_memzero(dek, 32);
            sodium_memzero(conversation, 32);
        }
        /* Crypto runs unlocked; only the inserts take turns on the one connection. */
        pthread_mutex_lock(&S.dblock);
        insert_chunk(rows, n);
        long before = S.done;
        S.done += n;
        if (S.done / 100000 != before / 100000 || S.done == S.total) {
            double t = now_s() - S.start;
            fprintf(stderr, "seeded %ld/%ld records (%.1f s, %.0f records/s)\n", S.done, S.total, t, S.done / t);
        }
        pthread_mutex_unlock(&S.dblock);
    }
    free(rows);
    return NULL;
}

static int cmd_seed(const char *dbpath, const char *keydir, long n, int threads) {
    read_public(keydir, 1, 1, S.support_pk);
    read_public(keydir, 3, 1, S.police_pk);
    if (sqlite3_open_v2(dbpath, &S.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        die("cannot open %s (create and migrate it with hearth first)", dbpath);
    sqlite3_busy_timeout(S.db, 10000);
    exec(S.db, "PRAGMA journal_mode = WAL");
    exec(S.db, "PRAGMA synchronous = OFF"); /* setup only; the measured rewrap uses FULL */
    exec(S.db, "PRAGMA cache_size = -524288");
    exec(S.db, "PRAGMA foreign_keys = ON");
    exec(S.db, "PRAGMA secure_delete = ON");
    /* Refuse a database that is not migrated. */
    sqlite3_stmt *chk = prepare(S.db, "SELECT count(*) FROM sqlite_master WHERE name IN ('records', 'consent_wraps')");
    if (sqlite3_step(chk) != SQLITE_ROW || sqlite3_column_int(chk, 0) != 2) die("%s is not a migrated Hearth database", dbpath);
    sqlite3_finalize(chk);
    S.ins_record = prepare(S.db,
        "INSERT INTO records (id, lookup, format, created_hour, region, status, commitment, body, survivor_wrap, no_consent_since) "
        "VALUES (?, ?, 1, ?, ?, 'new', ?, ?, ?, NULL)");
    S.ins_wrap = prepare(S.db, "INSERT INTO consent_wraps (record_rid, scope, key_version, wrap, conversation_wrap, expires) VALUES (?, ?, 1, ?, ?, NULL)");
    S.total = n;
    S.now_hour = (int64_t)time(NULL) / 3600 * 3600;
    S.start = now_s();
    pthread_t t[16];
    if (threads < 1) threads = 1;
    if (threads > 16) threads = 16;
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, seed_worker, NULL);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    sqlite3_finalize(S.ins_record);
    sqlite3_finalize(S.ins_wrap);
    exec(S.db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(S.db);
    double t_all = now_s() - S.start;
    printf("seeded %ld records, %ld consent wraps, in %.1f s (%d threads)\n", n, 2 * n, t_all, threads);
    return 0;
}

/* ---- verify ---- */

typedef struct { int scope; uint32_t version; uint8_t sk[32], pk[32]; } Key;

static int cmd_verify(const char *dbpath, const char *keydir, long count) {
    sqlite3 *db;
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) die("cannot open %s", dbpath);
    sqlite3_busy_timeout(db, 10000);
    Key keys[64];
    int nkeys = 0;
    sqlite3_stmt *mx = prepare(db, "SELECT coalesce(max(rid), 0) FROM records");
    sqlite3_step(mx);
    sqlite3_int64 maxrid = sqlite3_column_int64(mx, 0);
    sqlite3_finalize(mx);
    if (maxrid == 0) die("%s holds no records", dbpath);
    sqlite3_stmt *q = prepare(db,
        "SELECT r.id, r.commitment, w.scope, w.key_version, w.wrap FROM consent_wraps w JOIN records r ON r.rid = w.record_rid "
        "WHERE w.record_rid = (SELECT min(rid) FROM records WHERE rid >= ?)");
    long wraps = 0, failed = 0, by[5][8] = {{0}};
    for (long i = 0; i < count; i++) {
        sqlite3_int64 rid = 1 + (sqlite3_int64)(((uint64_t)randombytes_random() << 32 | randombytes_random()) % (uint64_t)maxrid);
        sqlite3_bind_int64(q, 1, rid);
        while (sqlite3_step(q) == SQLITE_ROW) {
            const uint8_t *id = sqlite3_column_blob(q, 0);
            int scope = scope_id((const char *)sqlite3_column_text(q, 2));
            uint32_t version = (uint32_t)sqlite3_column_int64(q, 3);
            Key *k = NULL;
            for (int j = 0; j < nkeys; j++)
                if (keys[j].scope == scope && keys[j].version == version) k = &keys[j];
            if (!k) {
                if (nkeys == 64) die("too many key versions");
                k = &keys[nkeys++];
                k->scope = scope;
                k->version = version;
                open_private(keydir, scope, version, k->sk);
                read_public(keydir, scope, version, k->pk);
            }
            wraps++;
            if (version < 8) by[scope][version]++;
            if (sqlite3_column_bytes(q, 0) != 10 ||
                open_wrap(sqlite3_column_blob(q, 4), sqlite3_column_bytes(q, 4), id, scope, version, k->sk, k->pk,
                          sqlite3_column_blob(q, 1), sqlite3_column_bytes(q, 1)) != 0) {
                failed++;
                fprintf(stderr, "wrap of record rid %lld (%s v%u) does not open\n", (long long)rid, SCOPE_NAMES[scope], version);
            }
        }
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    for (int j = 0; j < nkeys; j++) sodium_memzero(keys[j].sk, 32);
    printf("verified %ld wraps of %ld random records:", wraps, count);
    for (int s = 1; s <= 4; s++)
        for (int v = 0; v < 8; v++)
            if (by[s][v]) printf(" %s v%d: %ld", SCOPE_NAMES[s], v, by[s][v]);
    printf("; %ld do not open\n", failed);
    return failed == 0 && wraps > 0 ? 0 : 1;
}

/* ---- counts ---- */

static int cmd_counts(const char *dbpath) {
    sqlite3 *db;
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) die("cannot open %s", dbpath);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *q = prepare(db, "SELECT scope, key_version, count(*) FROM consent_wraps GROUP BY scope, key_version ORDER BY scope, key_version");
    while (sqlite3_step(q) == SQLITE_ROW)
        printf("%s v%lld %lld\n", sqlite3_column_text(q, 0), (long long)sqlite3_column_int64(q, 1), (long long)sqlite3_column_int64(q, 2));
    sqlite3_finalize(q);
    sqlite3_close(db);
    return 0;
}

/* ---- export-key ---- */

static int cmd_export(const char *keydir, const char *scope, const char *version) {
    if (isatty(STDOUT_FILENO)) die("refusing to write a private key to a terminal; pipe it");
    uint8_t sk[32];
    open_private(keydir, scope_id(scope), (uint32_t)strtoul(version, NULL, 10), sk);
    int ok = fwrite(sk, 1, 32, stdout) == 32 && fflush(stdout) == 0;
    sodium_memzero(sk, 32);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (sodium_init() < 0) die("sodium_init failed");
    if (argc >= 5 && strcmp(argv[1], "seed") == 0)
        return cmd_seed(argv[2], argv[3], atol(argv[4]), argc >= 6 ? atoi(argv[5]) : 2);
    if (argc == 5 && strcmp(argv[1], "verify") == 0) return cmd_verify(argv[2], argv[3], atol(argv[4]));
    if (argc == 3 && strcmp(argv[1], "counts") == 0) return cmd_counts(argv[2]);
    if (argc == 5 && strcmp(argv[1], "export-key") == 0) return cmd_export(argv[2], argv[3], argv[4]);
    fprintf(stderr,
            "usage: rewrap-seed seed DB KEYDIR N [THREADS]\n"
            "       rewrap-seed verify DB KEYDIR COUNT\n"
            "       rewrap-seed counts DB\n"
            "       rewrap-seed export-key KEYDIR SCOPE VERSION > pipe\n");
    return 2;
}
