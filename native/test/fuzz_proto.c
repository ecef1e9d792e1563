/* Fuzzing capsa-init's reader (native/init/proto.c): msg_recv on whole messages, plan_parse
 * and msg_str on bodies, built with AddressSanitizer and UndefinedBehaviorSanitizer so any
 * out-of-bounds read, overflow or use after free aborts. Test-only (node-gyp target
 * capsa-test-fuzz-proto); test/unit/protocol-fuzz.test.ts runs it in CI.
 *
 *   capsa-test-fuzz-proto CORPUS_DIR ITERATIONS SEED
 *
 * mutates the messages in CORPUS_DIR (bit flips, lengths and counts overwritten with edge
 * values, truncation, insertion, deletion, splicing, attribute types swapped) and prints
 * "iterations N accepted A rejected R" plus the rejection reasons. Built with
 * -DCAPSA_LIBFUZZER instead, it is a libFuzzer target (clang -fsanitize=fuzzer). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../init/init.h"

static void free_plan(struct plan *p) {
  free(p->joins.v);
  free(p->mounts.v);
  free(p->devices.v);
  free(p->symlinks.v);
  free(p->masked.v);
  free(p->readonly.v);
  free(p->sysctls.v);
  free(p->rlimits.v);
  free(p->gids.v);
  free(p->env.v);
  free(p->args.v);
  for (size_t i = 0; i < p->hooks.n; i++) free(p->hooks.v[i].args.v), free(p->hooks.v[i].env.v);
  free(p->hooks.v);
}

/* Every string the parser handed out lies inside the body and ends there with a NUL. */
static const uint8_t *lo, *hi;
static void in_body(const char *s) {
  if (!s) return;
  if ((const uint8_t *)s < lo || (const uint8_t *)s >= hi || !memchr(s, 0, (size_t)(hi - (const uint8_t *)s))) abort();
}
static void in_list(const struct str_list *l) {
  for (size_t i = 0; i < l->n; i++) in_body(l->v[i]);
  if (l->v && l->v[l->n]) abort();
}

static void check_plan(const struct plan *p) {
  in_list(&p->args);
  in_list(&p->env);
  in_list(&p->masked);
  in_list(&p->readonly);
  if (!p->args.n || !p->env.v || !p->cwd || p->cwd[0] != '/') abort();
  in_body(p->rootfs), in_body(p->cwd), in_body(p->hostname), in_body(p->state_dir), in_body(p->seccomp_listener);
  for (size_t i = 0; i < p->mounts.n; i++) {
    in_body(p->mounts.v[i].dest), in_body(p->mounts.v[i].source), in_body(p->mounts.v[i].fstype), in_body(p->mounts.v[i].data);
    if (p->mounts.v[i].dest[0] != '/') abort();
  }
  for (size_t i = 0; i < p->hooks.n; i++) in_list(&p->hooks.v[i].args), in_list(&p->hooks.v[i].env);
  if (p->seccomp_prog && ((const uint8_t *)p->seccomp_prog < lo || (const uint8_t *)p->seccomp_prog + p->seccomp_len > hi)) abort();
}

#define MAX_REASONS 64
static const char *reasons[MAX_REASONS];
static unsigned long reason_count[MAX_REASONS], accepted, rejected;

static void count(const char *why) {
  for (int i = 0; i < MAX_REASONS; i++) {
    if (!reasons[i]) reasons[i] = why;
    if (reasons[i] == why || !strcmp(reasons[i], why)) {
      reason_count[i]++;
      return;
    }
  }
}

static void parse_body(const uint8_t *data, size_t size) {
  /* An exact-size copy, so the sanitizer sees the first byte past the end. */
  uint8_t *body = malloc(size ? size : 1);
  memcpy(body, data, size);
  lo = body, hi = body + size;
  struct plan p;
  const char *why = NULL;
  if (plan_parse(body, (uint32_t)size, &p, &why) == 0) {
    check_plan(&p);
    accepted++;
  } else {
    if (!why) abort();
    count(why);
    rejected++;
  }
  free_plan(&p);
  struct msg m = {.type = CAPSA_MSG_HOOKS_DONE, .body = body, .len = (uint32_t)size};
  in_body(msg_str(&m, CAPSA_A_STATE_JSON));
  free(body);
}

/* A whole message, header included, read by msg_recv from a file holding exactly it. */
static void one(const uint8_t *data, size_t size) {
  if (size > (64u << 20)) return;
  int fd = memfd_create("fuzz", MFD_CLOEXEC);
  if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) abort();
  struct msg m;
  int r = msg_recv(fd, &m);
  close(fd);
  if (r == 0) {
    if (m.len > CAPSA_MAX_MESSAGE || (size_t)m.len + CAPSA_HEADER_SIZE > size) abort();
    parse_body(m.body, m.len);
    msg_free(&m);
  } else if (r != -EPROTO && r != -EMSGSIZE && r != -EPIPE) {
    abort();
  }
  /* The body alone as well, whatever the header said. */
  if (size >= CAPSA_HEADER_SIZE) parse_body(data + CAPSA_HEADER_SIZE, size - CAPSA_HEADER_SIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  one(data, size);
  return 0;
}

#ifndef CAPSA_LIBFUZZER
static uint64_t rng;
static uint64_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return rng;
}
static size_t below(size_t n) {
  return n ? (size_t)(next() % n) : 0;
}

struct buf {
  uint8_t *p;
  size_t n;
};

static struct buf seeds[256];
static size_t nseeds;

static void load(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) perror(dir), exit(2);
  struct dirent *e;
  while ((e = readdir(d)) && nseeds < 256) {
    if (e->d_name[0] == '.') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *f = fopen(path, "rb");
    if (!f) continue;
    struct buf b = {malloc(1 << 20), 0};
    b.n = fread(b.p, 1, 1 << 20, f);
    fclose(f);
    seeds[nseeds++] = b;
  }
  closedir(d);
  if (!nseeds) fprintf(stderr, "no seeds in %s\n", dir), exit(2);
}

/* Edge values for lengths and counts: where off-by-ones and overflows live. */
static const uint32_t edges[] = {0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000,
                                 0x7fffffff, 0x80000000, 0xfffffff8, 0xfffffffc, 0xffffffff, 16 << 20, (16 << 20) + 1};

static void mutate(struct buf *b, size_t cap) {
  int rounds = 1 + (int)below(6);
  for (int r = 0; r < rounds; r++) {
    size_t at = below(b->n ? b->n : 1);
    switch (below(9)) {
      case 0:
        if (b->n) b->p[at] ^= (uint8_t)(1u << below(8));
        break;
      case 1:
        if (b->n) b->p[at] = (uint8_t)next();
        break;
      case 2: /* a length or count: attribute lengths sit at 4 mod 4 within aligned lists */
        if (b->n >= 4) {
          uint32_t v = below(3) ? edges[below(sizeof edges / sizeof *edges)] : (uint32_t)b->n - (uint32_t)at + (uint32_t)below(17) - 8;
          memcpy(b->p + (at & ~(size_t)3) % (b->n - 3), &v, 4);
        }
        break;
      case 3: /* an attribute type */
        if (b->n >= 2) {
          uint16_t t = (uint16_t)(below(4) ? below(CAPSA_ATTR_MAX + 2) : next());
          memcpy(b->p + (at & ~(size_t)3) % (b->n - 1), &t, 2);
        }
        break;
      case 4:
        b->n = at;
        break;
      case 5: { /* insert a copy of a chunk */
        size_t len = below(64), from = below(b->n ? b->n : 1);
        if (from + len > b->n) len = b->n - from;
        if (b->n + len > cap) break;
        memmove(b->p + at + len, b->p + at, b->n - at);
        memmove(b->p + at, b->p + from + (from >= at ? len : 0), len);
        b->n += len;
        break;
      }
      case 6: { /* delete a chunk */
        size_t len = below(64);
        if (at + len > b->n) len = b->n - at;
        memmove(b->p + at, b->p + at + len, b->n - at - len);
        b->n -= len;
        break;
      }
      case 7: { /* splice the tail of another seed */
        const struct buf *o = &seeds[below(nseeds)];
        size_t from = below(o->n ? o->n : 1), len = o->n - from;
        if (at + len > cap) len = cap - at;
        memcpy(b->p + at, o->p + from, len);
        b->n = at + len;
        break;
      }
      case 8: /* fix the header's length to the body, so the body parser gets the mutation */
        if (b->n >= CAPSA_HEADER_SIZE) {
          uint32_t v = (uint32_t)(b->n - CAPSA_HEADER_SIZE);
          memcpy(b->p + 8, &v, 4);
        }
        break;
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 4) return fprintf(stderr, "usage: %s CORPUS_DIR ITERATIONS SEED\n", argv[0]), 2;
  load(argv[1]);
  unsigned long iterations = strtoul(argv[2], NULL, 10);
  rng = strtoull(argv[3], NULL, 10) * 0x9e3779b97f4a7c15ull | 1;
  size_t cap = 2 << 20;
  struct buf b = {malloc(cap), 0};
  for (size_t i = 0; i < nseeds; i++) one(seeds[i].p, seeds[i].n);
  for (unsigned long i = 0; i < iterations; i++) {
    const struct buf *s = &seeds[below(nseeds)];
    memcpy(b.p, s->p, s->n);
    b.n = s->n;
    mutate(&b, cap);
    one(b.p, b.n);
  }
  printf("iterations %lu accepted %lu rejected %lu\n", iterations, accepted, rejected);
  for (int i = 0; i < MAX_REASONS && reasons[i]; i++) printf("reason %lu %s\n", reason_count[i], reasons[i]);
  free(b.p);
  for (size_t i = 0; i < nseeds; i++) free(seeds[i].p);
  return 0;
}
#endif
