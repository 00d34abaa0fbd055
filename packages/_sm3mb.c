/* Multi-buffer SM3 (GB/T 32905): sixteen independent messages compressed at once with
 * AVX-512, one message per 32-bit lane.
 *
 * Why: SM3 of one stream is bound by its round latency (about a quarter of SHA-NI
 * SHA-256 here), but a fixity audit hashes many files; sixteen lanes make SM3 cheaper
 * than SHA-256 per byte. Padding and finalisation stay in Python (sm3_multi.py); this
 * module only compresses whole 64-byte blocks.
 *
 * compress(states, blocks): ``states`` is a writable buffer of 16 x 8 native uint32
 * (lane-major chaining values); ``blocks`` a sequence of at most 16 items, each None or
 * a bytes-like object whose length is a multiple of 64. Lanes with fewer blocks are
 * masked off once done. The GIL is released while compressing.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define LANES 16

static int force_off = 0;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86 1

#define AVX512 __attribute__((target("avx512f,avx512bw")))

AVX512 static inline __m512i rol(__m512i x, int n) { return _mm512_rol_epi32(x, n); }

#define XOR3(a, b, c) _mm512_ternarylogic_epi32((a), (b), (c), 0x96)
#define MAJ(a, b, c) _mm512_ternarylogic_epi32((a), (b), (c), 0xE8)
#define CHOOSE(a, b, c) _mm512_ternarylogic_epi32((a), (b), (c), 0xCA)

AVX512 static void compress_avx512(uint32_t *states, const uint8_t **ptrs,
                                   const Py_ssize_t *nblocks, Py_ssize_t maxblocks) {
    static const uint8_t zero_block[64] = {0};
    const __m512i bswap = _mm512_set_epi8(
        60, 61, 62, 63, 56, 57, 58, 59, 52, 53, 54, 55, 48, 49, 50, 51,
        44, 45, 46, 47, 40, 41, 42, 43, 36, 37, 38, 39, 32, 33, 34, 35,
        28, 29, 30, 31, 24, 25, 26, 27, 20, 21, 22, 23, 16, 17, 18, 19,
        12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    __m512i V[8];
    uint32_t tmp[8][LANES];
    for (int i = 0; i < 8; i++)
        for (int l = 0; l < LANES; l++) tmp[i][l] = states[l * 8 + i];
    for (int i = 0; i < 8; i++) V[i] = _mm512_loadu_si512(tmp[i]);

    uint32_t Tj[64];
    for (int j = 0; j < 64; j++) {
        uint32_t t = j < 16 ? 0x79cc4519u : 0x7a879d8au;
        int r = j % 32;
        Tj[j] = r ? (t << r) | (t >> (32 - r)) : t;
    }

    for (Py_ssize_t b = 0; b < maxblocks; b++) {
        __mmask16 active = 0;
        const uint8_t *p[LANES];
        for (int l = 0; l < LANES; l++) {
            if (b < nblocks[l]) {
                active |= (__mmask16)(1u << l);
                p[l] = ptrs[l] + 64 * b;
            } else {
                p[l] = zero_block;
            }
        }
        /* Transpose: load each lane's block, then gather word w of every lane. */
        __m512i rows[LANES];
        for (int l = 0; l < LANES; l++)
            rows[l] = _mm512_shuffle_epi8(_mm512_loadu_si512(p[l]), bswap);
        uint32_t words[LANES][16] __attribute__((aligned(64)));
        for (int l = 0; l < LANES; l++) _mm512_store_si512(words[l], rows[l]);
        const __m512i idx = _mm512_set_epi32(15 * 16, 14 * 16, 13 * 16, 12 * 16, 11 * 16,
                                             10 * 16, 9 * 16, 8 * 16, 7 * 16, 6 * 16, 5 * 16,
                                             4 * 16, 3 * 16, 2 * 16, 1 * 16, 0);
        __m512i W[68];
        for (int w = 0; w < 16; w++)
            W[w] = _mm512_i32gather_epi32(idx, (const int *)&words[0][w], 4);
        for (int j = 16; j < 68; j++) {
            __m512i x = XOR3(W[j - 16], W[j - 9], rol(W[j - 3], 15));
            x = XOR3(x, rol(x, 15), rol(x, 23));
            W[j] = XOR3(x, rol(W[j - 13], 7), W[j - 6]);
        }
        __m512i A = V[0], B = V[1], C = V[2], D = V[3], E = V[4], F = V[5], G = V[6],
                H = V[7];
        for (int j = 0; j < 64; j++) {
            __m512i a12 = rol(A, 12);
            __m512i ss1 = rol(_mm512_add_epi32(_mm512_add_epi32(a12, E),
                                               _mm512_set1_epi32((int)Tj[j])), 7);
            __m512i ss2 = _mm512_xor_si512(ss1, a12);
            __m512i ff = j < 16 ? XOR3(A, B, C) : MAJ(A, B, C);
            __m512i gg = j < 16 ? XOR3(E, F, G) : CHOOSE(E, F, G);
            __m512i wp = _mm512_xor_si512(W[j], W[j + 4]);
            __m512i tt1 = _mm512_add_epi32(_mm512_add_epi32(ff, D),
                                           _mm512_add_epi32(ss2, wp));
            __m512i tt2 = _mm512_add_epi32(_mm512_add_epi32(gg, H),
                                           _mm512_add_epi32(ss1, W[j]));
            D = C;
            C = rol(B, 9);
            B = A;
            A = tt1;
            H = G;
            G = rol(F, 19);
            F = E;
            E = XOR3(tt2, rol(tt2, 9), rol(tt2, 17));
        }
        __m512i out[8] = {A, B, C, D, E, F, G, H};
        for (int i = 0; i < 8; i++)
            V[i] = _mm512_mask_xor_epi32(V[i], active, V[i], out[i]);
    }
    for (int i = 0; i < 8; i++) _mm512_storeu_si512(tmp[i], V[i]);
    for (int i = 0; i < 8; i++)
        for (int l = 0; l < LANES; l++) states[l * 8 + i] = tmp[i][l];
}

static int have_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}
#else
static int have_avx512(void) { return 0; }
#endif

static int usable(void) { return !force_off && have_avx512(); }

static PyObject *py_compress(PyObject *self, PyObject *args) {
    Py_buffer states;
    PyObject *seq;
    if (!PyArg_ParseTuple(args, "w*O", &states, &seq)) return NULL;
    PyObject *fast = NULL;
    Py_buffer views[LANES];
    int held = 0;
    PyObject *result = NULL;
    if (!usable()) {
        PyErr_SetString(PyExc_RuntimeError, "multi-buffer SM3 needs AVX-512 (not available)");
        goto done;
    }
    if (states.len != LANES * 8 * 4) {
        PyErr_SetString(PyExc_ValueError, "states must be 512 bytes (16 lanes x 8 words)");
        goto done;
    }
    fast = PySequence_Fast(seq, "blocks must be a sequence");
    if (fast == NULL) goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n > LANES) {
        PyErr_SetString(PyExc_ValueError, "at most 16 lanes");
        goto done;
    }
    const uint8_t *ptrs[LANES] = {0};
    Py_ssize_t nblocks[LANES] = {0};
    Py_ssize_t maxblocks = 0;
    for (Py_ssize_t l = 0; l < n; l++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, l);
        if (item == Py_None) continue;
        if (PyObject_GetBuffer(item, &views[held], PyBUF_SIMPLE) < 0) goto done;
        Py_buffer *v = &views[held++];
        if (v->len % 64) {
            PyErr_Format(PyExc_ValueError, "lane %zd: length %zd is not a multiple of 64", l,
                         v->len);
            goto done;
        }
        ptrs[l] = v->buf;
        nblocks[l] = v->len / 64;
        if (nblocks[l] > maxblocks) maxblocks = nblocks[l];
    }
#ifdef HAVE_X86
    Py_BEGIN_ALLOW_THREADS
    compress_avx512((uint32_t *)states.buf, ptrs, nblocks, maxblocks);
    Py_END_ALLOW_THREADS
#endif
    result = Py_None;
    Py_INCREF(result);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&views[i]);
    Py_XDECREF(fast);
    PyBuffer_Release(&states);
    return result;
}

static PyObject *py_available(PyObject *self, PyObject *noargs) {
    return PyBool_FromLong(usable());
}

static PyObject *py_force_off(PyObject *self, PyObject *arg) {
    force_off = PyObject_IsTrue(arg);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"compress", py_compress, METH_VARARGS, "Compress up to 16 lanes of whole blocks."},
    {"available", py_available, METH_NOARGS, "Whether this CPU runs the AVX-512 kernel."},
    {"force_off", py_force_off, METH_O, "Pretend the kernel is unavailable (tests)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sm3mb", NULL, -1, methods};

PyMODINIT_FUNC PyInit__sm3mb(void) { return PyModule_Create(&module); }
