/*
 * Multi-buffer SM3 (GB/T 32905) compression for CPython: dangan.packages._sm3mb.
 *
 * One SM3 stream is bound by its round latency chain (OpenSSL: ~350 MB/s per core), but a
 * fixity audit hashes many files, so we compress up to 16 independent messages at once,
 * one message per 32-bit SIMD lane:
 *   - "avx512": 16 lanes in zmm registers (VPROLD rotates, VPTERNLOGD for FF/GG/P0/P1),
 *               and 8 lanes in ymm registers (AVX-512VL) once 8 or fewer lanes are busy;
 *   - "avx2":   8 lanes in ymm registers, rotates as shift/shift/or;
 *   - "scalar": portable C, one lane after another.
 * The kernel is picked at run time (__builtin_cpu_supports) and each SIMD function carries
 * its own target attribute, so the module builds with plain compiler flags and runs on any
 * x86-64; elsewhere (or with -DSM3MB_NO_SIMD) only the scalar path is compiled.
 *
 * Python API (padding and finalisation live in packages/sm3_multi.py):
 *   compress(states, blocks) -> None
 *       states: writable buffer of len(blocks) * 8 native uint32 (lane i = words 8i..8i+7);
 *       blocks: sequence of buffers or None, one per lane; each a multiple of 64 bytes.
 *       Lanes may have different lengths (the shorter ones are masked off) and are
 *       compressed with the GIL released, reading the buffers in place.
 *   kernel() -> str, kernels() -> tuple[str, ...], set_kernel(name) -> previous name,
 *   width() -> lanes per SIMD call of the active kernel (16, 8 or 1).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SM3MB_NO_SIMD)
#define SM3MB_X86 1
#include <immintrin.h>
#else
#define SM3MB_X86 0
#endif

#define ROTL32(x, n) (((x) << (n)) | ((x) >> ((32 - (n)) & 31)))

/* Tj <<< (j mod 32), precomputed. */
static const uint32_t TJ[64] = {
    0x79cc4519, 0xf3988a32, 0xe7311465, 0xce6228cb, 0x9cc45197, 0x3988a32f, 0x7311465e,
    0xe6228cbc, 0xcc451979, 0x988a32f3, 0x311465e7, 0x6228cbce, 0xc451979c, 0x88a32f39,
    0x11465e73, 0x228cbce6, 0x9d8a7a87, 0x3b14f50f, 0x7629ea1e, 0xec53d43c, 0xd8a7a879,
    0xb14f50f3, 0x629ea1e7, 0xc53d43ce, 0x8a7a879d, 0x14f50f3b, 0x29ea1e76, 0x53d43cec,
    0xa7a879d8, 0x4f50f3b1, 0x9ea1e762, 0x3d43cec5, 0x7a879d8a, 0xf50f3b14, 0xea1e7629,
    0xd43cec53, 0xa879d8a7, 0x50f3b14f, 0xa1e7629e, 0x43cec53d, 0x879d8a7a, 0x0f3b14f5,
    0x1e7629ea, 0x3cec53d4, 0x79d8a7a8, 0xf3b14f50, 0xe7629ea1, 0xcec53d43, 0x9d8a7a87,
    0x3b14f50f, 0x7629ea1e, 0xec53d43c, 0xd8a7a879, 0xb14f50f3, 0x629ea1e7, 0xc53d43ce,
    0x8a7a879d, 0x14f50f3b, 0x29ea1e76, 0x53d43cec, 0xa7a879d8, 0x4f50f3b1, 0x9ea1e762,
    0x3d43cec5,
};


/* ---- scalar ------------------------------------------------------------------------- */

static inline uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void sm3_compress_scalar(uint32_t st[8], const uint8_t *p, size_t nblocks)
{
    uint32_t W[68];
    while (nblocks--) {
        for (int j = 0; j < 16; j++)
            W[j] = load_be32(p + 4 * j);
        for (int j = 16; j < 68; j++) {
            uint32_t x = W[j - 16] ^ W[j - 9] ^ ROTL32(W[j - 3], 15);
            W[j] = x ^ ROTL32(x, 15) ^ ROTL32(x, 23) ^ ROTL32(W[j - 13], 7) ^ W[j - 6];
        }
        uint32_t A = st[0], B = st[1], C = st[2], D = st[3];
        uint32_t E = st[4], F = st[5], G = st[6], H = st[7];
        for (int j = 0; j < 64; j++) {
            uint32_t a12 = ROTL32(A, 12);
            uint32_t ss1 = ROTL32(a12 + E + TJ[j], 7);
            uint32_t ss2 = ss1 ^ a12;
            uint32_t ff, gg;
            if (j < 16) {
                ff = A ^ B ^ C;
                gg = E ^ F ^ G;
            } else {
                ff = (A & B) | (A & C) | (B & C);
                gg = (E & F) | (~E & G);
            }
            uint32_t tt1 = ff + D + ss2 + (W[j] ^ W[j + 4]);
            uint32_t tt2 = gg + H + ss1 + W[j];
            D = C;
            C = ROTL32(B, 9);
            B = A;
            A = tt1;
            H = G;
            G = ROTL32(F, 19);
            F = E;
            E = tt2 ^ ROTL32(tt2, 9) ^ ROTL32(tt2, 17);
        }
        st[0] ^= A; st[1] ^= B; st[2] ^= C; st[3] ^= D;
        st[4] ^= E; st[5] ^= F; st[6] ^= G; st[7] ^= H;
        p += 64;
    }
}

/* ---- SIMD round body, shared by the vector kernels through macros ------------------
 * A kernel defines V (vector type) and ADD, XOR3, ROL, MAJ, CH, SET1, then uses
 * SM3_BLOCK_ROUNDS(W, S) where W[68] holds the expanded message (W[0..15] loaded) and
 * S[8] the state; the state is updated in place (S ^= compressed). Rounds rename the
 * registers instead of moving them: after a round, (A..H) become (D,A,B,C,H,E,F,G).
 */
#define SM3_EXPAND(W, j)                                                                  \
    do {                                                                                  \
        V x_ = XOR3(W[(j) - 16], W[(j) - 9], ROL(W[(j) - 3], 15));                        \
        W[j] = XOR3(XOR3(x_, ROL(x_, 15), ROL(x_, 23)), ROL(W[(j) - 13], 7), W[(j) - 6]); \
    } while (0)

#define SM3_ROUND(W, j, A, B, C, D, E, F, G, H, FF, GG)              \
    do {                                                             \
        V a12_ = ROL(A, 12);                                         \
        V ss1_ = ROL(ADD(ADD(a12_, E), SET1(TJ[j])), 7);             \
        V ss2_ = XOR(ss1_, a12_);                                    \
        V tt1_ = ADD(ADD(FF(A, B, C), D), ADD(ss2_, XOR(W[j], W[(j) + 4]))); \
        V tt2_ = ADD(ADD(GG(E, F, G), H), ADD(ss1_, W[j]));          \
        B = ROL(B, 9);                                               \
        F = ROL(F, 19);                                              \
        D = tt1_;                                                    \
        H = XOR3(tt2_, ROL(tt2_, 9), ROL(tt2_, 17));                 \
    } while (0)

#define SM3_FOUR(W, j, FF, GG)                                       \
    do {                                                             \
        SM3_ROUND(W, (j) + 0, a, b, c, d, e, f, g, h, FF, GG);       \
        SM3_ROUND(W, (j) + 1, d, a, b, c, h, e, f, g, FF, GG);       \
        SM3_ROUND(W, (j) + 2, c, d, a, b, g, h, e, f, FF, GG);       \
        SM3_ROUND(W, (j) + 3, b, c, d, a, f, g, h, e, FF, GG);       \
    } while (0)

#define FF0(x, y, z) XOR3(x, y, z)
#define GG0(x, y, z) XOR3(x, y, z)

/* Rounds 0..63 with the message expansion for W[j+4] interleaved into round j. */
#define SM3_BLOCK_ROUNDS(W, S)                                               \
    do {                                                                     \
        V a = S[0], b = S[1], c = S[2], d = S[3];                            \
        V e = S[4], f = S[5], g = S[6], h = S[7];                            \
        SM3_FOUR(W, 0, FF0, GG0);                                            \
        SM3_FOUR(W, 4, FF0, GG0);                                            \
        SM3_FOUR(W, 8, FF0, GG0);                                            \
        SM3_EXPAND(W, 16); SM3_EXPAND(W, 17); SM3_EXPAND(W, 18); SM3_EXPAND(W, 19); \
        SM3_FOUR(W, 12, FF0, GG0);                                           \
        for (int j_ = 16; j_ < 64; j_ += 4) {                                \
            SM3_EXPAND(W, j_ + 4); SM3_EXPAND(W, j_ + 5);                    \
            SM3_EXPAND(W, j_ + 6); SM3_EXPAND(W, j_ + 7);                    \
            SM3_FOUR(W, j_, MAJ, CH);                                        \
        }                                                                    \
        S[0] = XOR(S[0], AND(a, M)); S[1] = XOR(S[1], AND(b, M));            \
        S[2] = XOR(S[2], AND(c, M)); S[3] = XOR(S[3], AND(d, M));            \
        S[4] = XOR(S[4], AND(e, M)); S[5] = XOR(S[5], AND(f, M));            \
        S[6] = XOR(S[6], AND(g, M)); S[7] = XOR(S[7], AND(h, M));            \
    } while (0)

/* Vector kernels: st is the state in SoA form (word w of lane l at st[w * stride + l]);
 * lane l reads its blocks from p[l], advancing by 64 bytes per block when l < active and
 * staying on ZERO_BLOCK (state not updated) otherwise; all run nblocks blocks. */
typedef void (*vec_kernel)(uint32_t *st, size_t stride, const uint8_t **p, int active,
                           size_t nblocks);

#if SM3MB_X86

static const uint8_t ZERO_BLOCK[64];

/* -- AVX-512, 16 lanes -- */
#define V __m512i
#define ADD(x, y) _mm512_add_epi32(x, y)
#define XOR(x, y) _mm512_xor_si512(x, y)
#define AND(x, y) _mm512_and_si512(x, y)
#define XOR3(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x96)
#define MAJ(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xE8)
#define CH(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xCA)
#define ROL(x, n) _mm512_rol_epi32(x, n)
#define SET1(x) _mm512_set1_epi32((int)(x))

__attribute__((target("avx512f,avx512vl,avx512bw"))) static void
kern_avx512_16(uint32_t *st, size_t stride, const uint8_t **p, int active, size_t nblocks)
{
    const __m512i bswap = _mm512_broadcast_i32x4(
        _mm_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12));
    const uint8_t *ptr[16];
    V S[8], W[68];
    const V M = _mm512_maskz_set1_epi32((__mmask16)((1u << active) - 1u), -1);
    for (int l = 0; l < 16; l++)
        ptr[l] = l < active ? p[l] : ZERO_BLOCK;
    const size_t step = 64;
    for (int w = 0; w < 8; w++)
        S[w] = _mm512_loadu_si512((const void *)(st + w * stride));
    while (nblocks--) {
        V r[16], t[16], u[16];
        for (int l = 0; l < 16; l++)
            r[l] = _mm512_loadu_si512((const void *)ptr[l]);
        for (int l = 0; l < active; l++)
            ptr[l] += step;
        /* 16x16 transpose of 32-bit words: W[k] = word k of every lane. */
        for (int i = 0; i < 8; i++) {
            t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
        }
        for (int i = 0; i < 4; i++) {
            u[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
            u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
            u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
            u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
        }
        for (int c = 0; c < 4; c++) {
            V v0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x44);
            V v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xEE);
            V w0 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x44);
            V w1 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xEE);
            W[0 + c] = _mm512_shuffle_epi8(_mm512_shuffle_i32x4(v0, w0, 0x88), bswap);
            W[4 + c] = _mm512_shuffle_epi8(_mm512_shuffle_i32x4(v0, w0, 0xDD), bswap);
            W[8 + c] = _mm512_shuffle_epi8(_mm512_shuffle_i32x4(v1, w1, 0x88), bswap);
            W[12 + c] = _mm512_shuffle_epi8(_mm512_shuffle_i32x4(v1, w1, 0xDD), bswap);
        }
        SM3_BLOCK_ROUNDS(W, S);
    }
    for (int w = 0; w < 8; w++)
        _mm512_storeu_si512((void *)(st + w * stride), S[w]);
}

#undef V
#undef ADD
#undef XOR
#undef AND
#undef XOR3
#undef MAJ
#undef CH
#undef ROL
#undef SET1

/* -- 8 lanes in ymm: transpose shared by the AVX-512VL and AVX2 variants -- */
#define TRANSPOSE8_LOAD(W, ptr, bswap)                                                \
    do {                                                                              \
        for (int half = 0; half < 2; half++) {                                        \
            __m256i r[8], t[8], u[8];                                                 \
            for (int l = 0; l < 8; l++)                                               \
                r[l] = _mm256_loadu_si256((const __m256i *)(ptr[l] + 32 * half));     \
            for (int i = 0; i < 4; i++) {                                             \
                t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);             \
                t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);         \
            }                                                                         \
            for (int i = 0; i < 2; i++) {                                             \
                u[4 * i + 0] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);         \
                u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);         \
                u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);     \
                u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);     \
            }                                                                         \
            for (int c = 0; c < 4; c++) {                                             \
                W[8 * half + c] = _mm256_shuffle_epi8(                                \
                    _mm256_permute2x128_si256(u[c], u[4 + c], 0x20), bswap);          \
                W[8 * half + 4 + c] = _mm256_shuffle_epi8(                            \
                    _mm256_permute2x128_si256(u[c], u[4 + c], 0x31), bswap);          \
            }                                                                         \
        }                                                                             \
    } while (0)

#define KERNEL8_BODY                                                                   \
    const __m256i bswap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15,   \
                                           14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, \
                                           9, 8, 15, 14, 13, 12);                      \
    const uint8_t *ptr[8];                                                             \
    V S[8], W[68];                                                                     \
    uint32_t mask_words[8];                                                            \
    for (int l = 0; l < 8; l++) {                                                      \
        ptr[l] = l < active ? p[l] : ZERO_BLOCK;                                       \
        mask_words[l] = l < active ? 0xffffffffu : 0;                                  \
    }                                                                                  \
    const V M = _mm256_loadu_si256((const __m256i *)mask_words);                       \
    for (int w = 0; w < 8; w++)                                                        \
        S[w] = _mm256_loadu_si256((const __m256i *)(st + w * stride));                 \
    while (nblocks--) {                                                                \
        TRANSPOSE8_LOAD(W, ptr, bswap);                                                \
        for (int l = 0; l < active; l++)                                               \
            ptr[l] += 64;                                                              \
        SM3_BLOCK_ROUNDS(W, S);                                                        \
    }                                                                                  \
    for (int w = 0; w < 8; w++)                                                        \
        _mm256_storeu_si256((__m256i *)(st + w * stride), S[w]);

#define V __m256i
#define ADD(x, y) _mm256_add_epi32(x, y)
#define XOR(x, y) _mm256_xor_si256(x, y)
#define AND(x, y) _mm256_and_si256(x, y)
#define SET1(x) _mm256_set1_epi32((int)(x))

/* -- AVX-512VL, 8 lanes (used when few lanes are busy) -- */
#define XOR3(x, y, z) _mm256_ternarylogic_epi32(x, y, z, 0x96)
#define MAJ(x, y, z) _mm256_ternarylogic_epi32(x, y, z, 0xE8)
#define CH(x, y, z) _mm256_ternarylogic_epi32(x, y, z, 0xCA)
#define ROL(x, n) _mm256_rol_epi32(x, n)

__attribute__((target("avx512f,avx512vl,avx2"))) static void
kern_avx512_8(uint32_t *st, size_t stride, const uint8_t **p, int active, size_t nblocks)
{
    KERNEL8_BODY
}

#undef XOR3
#undef MAJ
#undef CH
#undef ROL

/* -- AVX2, 8 lanes -- */
#define XOR3(x, y, z) _mm256_xor_si256(_mm256_xor_si256(x, y), z)
#define MAJ(x, y, z) \
    _mm256_or_si256(_mm256_and_si256(x, y), _mm256_and_si256(z, _mm256_or_si256(x, y)))
#define CH(x, y, z) _mm256_xor_si256(_mm256_and_si256(_mm256_xor_si256(y, z), x), z)
#define ROL(x, n) _mm256_or_si256(_mm256_slli_epi32(x, n), _mm256_srli_epi32(x, 32 - (n)))

__attribute__((target("avx2"))) static void
kern_avx2_8(uint32_t *st, size_t stride, const uint8_t **p, int active, size_t nblocks)
{
    KERNEL8_BODY
}

#undef XOR3
#undef MAJ
#undef CH
#undef ROL
#undef V
#undef ADD
#undef XOR
#undef AND
#undef SET1

#endif /* SM3MB_X86 */

/* ---- dispatch ----------------------------------------------------------------------- */

enum { K_SCALAR = 0, K_AVX2 = 1, K_AVX512 = 2 };
static const char *const KERNEL_NAMES[] = {"scalar", "avx2", "avx512"};
static int best_kernel = K_SCALAR;
static int active_kernel = K_SCALAR;

static void detect_kernels(void)
{
#if SM3MB_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw"))
        best_kernel = K_AVX512;
    else if (__builtin_cpu_supports("avx2"))
        best_kernel = K_AVX2;
#endif
    active_kernel = best_kernel;
}

typedef struct {
    uint32_t *state;       /* 8 words, AoS, in the caller's buffer */
    const uint8_t *data;
    size_t nblocks;
} lane_t;

#if SM3MB_X86
static int by_blocks_desc(const void *x, const void *y)
{
    size_t a = ((const lane_t *)x)->nblocks, b = ((const lane_t *)y)->nblocks;
    return a < b ? 1 : a > b ? -1 : 0;
}

/* One group of at most `width` lanes sorted by descending block count: run the SIMD kernel
 * over the blocks all busy lanes still share, drop the lanes that are done, repeat. With
 * AVX-512, once 8 or fewer lanes remain busy they move to the 8-lane ymm kernel. */
static void compress_group(lane_t *g, int n, int width, int kind)
{
    uint32_t soa[8 * 16];
    const size_t stride = 16;
    const uint8_t *ptr[16];
    memset(soa, 0, sizeof soa);
    for (int l = 0; l < n; l++) {
        for (int w = 0; w < 8; w++)
            soa[w * stride + l] = g[l].state[w];
        ptr[l] = g[l].data;
    }
    size_t done = 0;
    int active = n;
    while (active > 0) {
        while (active > 0 && g[active - 1].nblocks <= done)
            active--;
        if (active == 0)
            break;
        size_t nb = g[active - 1].nblocks - done;
        if (kind == K_AVX512 && width == 16 && active > 8)
            kern_avx512_16(soa, stride, ptr, active, nb);
        else if (kind == K_AVX512)
            kern_avx512_8(soa, stride, ptr, active, nb);
        else
            kern_avx2_8(soa, stride, ptr, active, nb);
        for (int l = 0; l < active; l++)
            ptr[l] += 64 * nb;
        done += nb;
    }
    for (int l = 0; l < n; l++)
        for (int w = 0; w < 8; w++)
            g[l].state[w] = soa[w * stride + l];
}
#endif

/* Runs without the GIL. */
static void compress_lanes(lane_t *lanes, Py_ssize_t n, int kind)
{
    if (kind == K_SCALAR) {
        for (Py_ssize_t i = 0; i < n; i++)
            if (lanes[i].nblocks)
                sm3_compress_scalar(lanes[i].state, lanes[i].data, lanes[i].nblocks);
        return;
    }
#if SM3MB_X86
    int width = kind == K_AVX512 ? 16 : 8;
    qsort(lanes, (size_t)n, sizeof *lanes, by_blocks_desc);
    while (n > 0 && lanes[n - 1].nblocks == 0)
        n--;
    for (Py_ssize_t i = 0; i < n; i += width) {
        int g = (int)(n - i < width ? n - i : width);
        compress_group(lanes + i, g, width, kind);
    }
#endif
}

/* ---- Python glue -------------------------------------------------------------------- */

static PyObject *py_compress(PyObject *self, PyObject *args)
{
    PyObject *states_obj, *blocks_obj;
    if (!PyArg_ParseTuple(args, "OO:compress", &states_obj, &blocks_obj))
        return NULL;
    PyObject *seq = PySequence_Fast(blocks_obj, "blocks must be a sequence");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    Py_buffer states;
    if (PyObject_GetBuffer(states_obj, &states, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        Py_DECREF(seq);
        return NULL;
    }
    PyObject *result = NULL;
    Py_buffer *views = NULL;
    lane_t *lanes = NULL;
    uint32_t *work = NULL;
    Py_ssize_t got = 0, nlanes = 0;
    if (states.len < n * 32) {
        PyErr_Format(PyExc_ValueError, "states holds %zd bytes, %zd lanes need %zd",
                     states.len, n, n * 32);
        goto done;
    }
    views = PyMem_Calloc((size_t)(n ? n : 1), sizeof *views);
    lanes = PyMem_Calloc((size_t)(n ? n : 1), sizeof *lanes);
    work = PyMem_Calloc((size_t)(n ? n : 1), 8 * sizeof *work); /* aligned state copies */
    if (!views || !lanes || !work) {
        PyErr_NoMemory();
        goto done;
    }
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (items[i] == Py_None)
            continue;
        if (PyObject_GetBuffer(items[i], &views[i], PyBUF_C_CONTIGUOUS) < 0)
            goto done;
        got = i + 1;
        if (views[i].len % 64) {
            PyErr_Format(PyExc_ValueError, "lane %zd: %zd bytes is not a whole number of "
                         "64-byte blocks", i, views[i].len);
            goto done;
        }
        if (views[i].len == 0)
            continue;
        lanes[nlanes].state = work + 8 * i;
        lanes[nlanes].data = views[i].buf;
        lanes[nlanes].nblocks = (size_t)views[i].len / 64;
        memcpy(work + 8 * i, (char *)states.buf + 32 * i, 32);
        nlanes++;
    }
    int kind = active_kernel;
    Py_BEGIN_ALLOW_THREADS
    compress_lanes(lanes, nlanes, kind);
    Py_END_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        if (views[i].obj != NULL && views[i].len)
            memcpy((char *)states.buf + 32 * i, work + 8 * i, 32);
    result = Py_None;
    Py_INCREF(result);
done:
    for (Py_ssize_t i = 0; i < got; i++)
        if (views != NULL && views[i].obj != NULL)
            PyBuffer_Release(&views[i]);
    PyMem_Free(views);
    PyMem_Free(lanes);
    PyMem_Free(work);
    PyBuffer_Release(&states);
    Py_DECREF(seq);
    return result;
}

static PyObject *py_kernel(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(KERNEL_NAMES[active_kernel]);
}

static PyObject *py_kernels(PyObject *self, PyObject *unused)
{
    PyObject *t = PyTuple_New(best_kernel + 1);
    if (t == NULL)
        return NULL;
    for (int k = best_kernel; k >= 0; k--) {
        PyObject *s = PyUnicode_FromString(KERNEL_NAMES[k]);
        if (s == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, best_kernel - k, s);
    }
    return t;
}

static PyObject *py_set_kernel(PyObject *self, PyObject *arg)
{
    const char *name = PyUnicode_AsUTF8(arg);
    if (name == NULL)
        return NULL;
    for (int k = 0; k <= best_kernel; k++) {
        if (strcmp(name, KERNEL_NAMES[k]) == 0) {
            int previous = active_kernel;
            active_kernel = k;
            return PyUnicode_FromString(KERNEL_NAMES[previous]);
        }
    }
    return PyErr_Format(PyExc_ValueError, "kernel %R is not available here (have up to %s)",
                        arg, KERNEL_NAMES[best_kernel]);
}

static PyObject *py_width(PyObject *self, PyObject *unused)
{
    static const int widths[] = {1, 8, 16};
    return PyLong_FromLong(widths[active_kernel]);
}

static PyMethodDef methods[] = {
    {"compress", py_compress, METH_VARARGS,
     "compress(states, blocks): SM3-compress each lane's whole 64-byte blocks into its 8 "
     "native uint32 state words (states[32*i:32*i+32]); None or b'' leaves a lane alone."},
    {"kernel", py_kernel, METH_NOARGS, "Name of the kernel in use: avx512, avx2 or scalar."},
    {"kernels", py_kernels, METH_NOARGS, "Kernels this CPU can run, fastest first."},
    {"set_kernel", py_set_kernel, METH_O, "Use the named kernel (tests); returns the previous."},
    {"width", py_width, METH_NOARGS, "Lanes one SIMD call of the active kernel hashes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sm3mb", "Multi-buffer SM3 compression (see packages/_sm3mb.c).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__sm3mb(void)
{
    detect_kernels();
    return PyModule_Create(&module);
}
