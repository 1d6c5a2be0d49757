// Memory-bound passes of a conv layer's backward step, in WebAssembly SIMD, for @rxfit/backend:
// the bias gradient (a column sum), relu's Step and its gradient. The stock kernels are scalar C
// (Step) or go through an average pool (our Sum fast path); these read the data once, 4 lanes
// at a time, and split across threads by rows or elements.
//
// Same rules as conv2d-filter-grad.c: no data segments, no stack, memory imported.

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))

// out[k..k+4n-1] = sum over rows r0..r1-1 of x[r, k..k+4n-1] (x is [rows, c]) for n = 1, 4 or
// 8 vectors of accumulators; inlined with a constant n, the unused ones fold away.
static inline __attribute__((always_inline)) void sum_block(const float* x, float* out, int r0,
                                                            int r1, int c, int k, const int n) {
  v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (long r = r0; r < r1; r++) {
    const float* p = x + r * c + k;
    a0 = wasm_f32x4_add(a0, wasm_v128_load(p));
    if (n >= 4) {
      a1 = wasm_f32x4_add(a1, wasm_v128_load(p + 4));
      a2 = wasm_f32x4_add(a2, wasm_v128_load(p + 8));
      a3 = wasm_f32x4_add(a3, wasm_v128_load(p + 12));
    }
    if (n >= 8) {
      a4 = wasm_f32x4_add(a4, wasm_v128_load(p + 16));
      a5 = wasm_f32x4_add(a5, wasm_v128_load(p + 20));
      a6 = wasm_f32x4_add(a6, wasm_v128_load(p + 24));
      a7 = wasm_f32x4_add(a7, wasm_v128_load(p + 28));
    }
  }
  float* o = out + k;
  wasm_v128_store(o, a0);
  if (n >= 4) wasm_v128_store(o + 4, a1), wasm_v128_store(o + 8, a2), wasm_v128_store(o + 12, a3);
  if (n >= 8) {
    wasm_v128_store(o + 16, a4), wasm_v128_store(o + 20, a5);
    wasm_v128_store(o + 24, a6), wasm_v128_store(o + 28, a7);
  }
}

// out[c] = sum over rows r0..r1-1 of x[r, c] (x is [rows, c]); out is overwritten. Channels go
// in blocks of 32 (8 accumulators): a conv layer's 32 channels are one pass, each row read once.
EXPORT("sum_rows")
void sum_rows(const float* x, float* out, int r0, int r1, int c) {
  int k = 0;
  for (; k + 32 <= c; k += 32) sum_block(x, out, r0, r1, c, k, 8);
  for (; k + 16 <= c; k += 16) sum_block(x, out, r0, r1, c, k, 4);
  for (; k + 4 <= c; k += 4) sum_block(x, out, r0, r1, c, k, 1);
  for (; k < c; k++) {
    float a = 0;
    for (long r = r0; r < r1; r++) a += x[r * c + k];
    out[k] = a;
  }
}

// out[i] = x[i] > 0 ? 1 : alpha, NaN stays NaN, for i in i0..i1-1 (tfjs' Step). alpha comes
// as the bits of a float32 (the worker threads pass int32 arguments).
EXPORT("step")
void step(const float* x, float* out, int i0, int i1, int alphaBits) {
  const float alpha = __builtin_bit_cast(float, alphaBits);
  const v128_t one = wasm_f32x4_splat(1.0f), a = wasm_f32x4_splat(alpha);
  const v128_t zero = wasm_f32x4_splat(0.0f);
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    const v128_t r = wasm_v128_bitselect(one, a, wasm_f32x4_gt(v, zero));
    wasm_v128_store(out + i, wasm_v128_bitselect(v, r, wasm_f32x4_ne(v, v)));
  }
  for (; i < i1; i++) {
    const float v = x[i];
    out[i] = v != v ? v : (v > 0 ? 1.0f : alpha);
  }
}

// out[i] = a[i] * b[i] (op 0) or a[i] + b[i] (op 1), where b has period `bn` (bn = the size of
// a for same-shape operands, the channel count for a bias over the last axis), for i in
// i0..i1-1 (any i0: b is indexed by i % bn).
EXPORT("binary")
void binary(const float* a, const float* b, float* out, int i0, int i1, int bn, int op) {
  int i = i0;
  int k = i0 % bn;
  while (i < i1) {
    // A run of b without wrapping: [k, end).
    int run = bn - k;
    if (run > i1 - i) run = i1 - i;
    const float* ap = a + i;
    const float* bp = b + k;
    float* op_ = out + i;
    int j = 0;
    if (op == 0) {
      for (; j + 4 <= run; j += 4)
        wasm_v128_store(op_ + j, wasm_f32x4_mul(wasm_v128_load(ap + j), wasm_v128_load(bp + j)));
      for (; j < run; j++) op_[j] = ap[j] * bp[j];
    } else {
      for (; j + 4 <= run; j += 4)
        wasm_v128_store(op_ + j, wasm_f32x4_add(wasm_v128_load(ap + j), wasm_v128_load(bp + j)));
      for (; j < run; j++) op_[j] = ap[j] + bp[j];
    }
    i += run;
    k = 0;
  }
}

// out[i] = max(x[i], 0), NaN kept (as XNNPACK's clamp: tfjs' Relu), for i in i0..i1-1.
EXPORT("relu")
void relu(const float* x, float* out, int i0, int i1) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    // v > 0 or NaN keeps v; else 0.
    const v128_t keep = wasm_v128_or(wasm_f32x4_gt(v, zero), wasm_f32x4_ne(v, v));
    wasm_v128_store(out + i, wasm_v128_and(v, keep));
  }
  for (; i < i1; i++) out[i] = (x[i] > 0 || x[i] != x[i]) ? x[i] : 0.0f;
}

// out[i] = dy[i] * s, s = x[i] > 0 ? 1 : 0 with NaN kept (x NaN: s = x), for i in i0..i1-1:
// tfjs-core's relu gradient `mul(dy, step(x))` in one pass, the same float32 product (so
// dy = ±Inf or NaN times 0 gives NaN, and -dy times 0 gives -0, as there).
EXPORT("relu_grad")
void relu_grad(const float* dy, const float* x, float* out, int i0, int i1) {
  const v128_t one = wasm_f32x4_splat(1.0f), zero = wasm_f32x4_splat(0.0f);
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    const v128_t s = wasm_v128_bitselect(v, wasm_v128_and(one, wasm_f32x4_gt(v, zero)),
                                         wasm_f32x4_ne(v, v));
    wasm_v128_store(out + i, wasm_f32x4_mul(wasm_v128_load(dy + i), s));
  }
  for (; i < i1; i++) {
    const float v = x[i];
    out[i] = dy[i] * (v != v ? v : (v > 0 ? 1.0f : 0.0f));
  }
}
