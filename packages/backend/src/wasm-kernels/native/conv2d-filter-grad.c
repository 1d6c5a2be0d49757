// The filter gradient of an NHWC conv2d, in WebAssembly SIMD, for @rxfit/backend.
//
// XNNPACK has no such kernel; composed from its conv or GEMM, the reduction over every pixel
// of the batch streams a repacked copy of dy from memory at every call (22% of the matMul peak
// for a 3-channel first layer). Here dy and x are read in place, one output row at a time, so
// both stay in L1 while a tile of the gradient accumulates in registers.
//
// The module imports the wasm backend's own memory and keeps nothing in it: no data segments,
// no stack (every value lives in wasm locals). Build: build.sh (Debian's emscripten).

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))

// One tile: CT input channels by 8 output channels, over one row of output pixels.
static inline __attribute__((always_inline)) void tile8(const float* xp, const float* dp,
                                                        float* wp, int count, int xstep,
                                                        int dstep, int co, int CT) {
  v128_t a00 = wasm_v128_load(wp), a01 = wasm_v128_load(wp + 4);
  v128_t a10 = a00, a11 = a01, a20 = a00, a21 = a01, a30 = a00, a31 = a01;
  if (CT > 1) a10 = wasm_v128_load(wp + co), a11 = wasm_v128_load(wp + co + 4);
  if (CT > 2) a20 = wasm_v128_load(wp + 2 * co), a21 = wasm_v128_load(wp + 2 * co + 4);
  if (CT > 3) a30 = wasm_v128_load(wp + 3 * co), a31 = wasm_v128_load(wp + 3 * co + 4);
  for (int q = 0; q < count; q++) {
    const v128_t d0 = wasm_v128_load(dp), d1 = wasm_v128_load(dp + 4);
    v128_t s = wasm_v128_load32_splat(xp);
    a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(s, d0));
    a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(s, d1));
    if (CT > 1) {
      s = wasm_v128_load32_splat(xp + 1);
      a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(s, d0));
      a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(s, d1));
    }
    if (CT > 2) {
      s = wasm_v128_load32_splat(xp + 2);
      a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(s, d0));
      a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(s, d1));
    }
    if (CT > 3) {
      s = wasm_v128_load32_splat(xp + 3);
      a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(s, d0));
      a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(s, d1));
    }
    xp += xstep;
    dp += dstep;
  }
  wasm_v128_store(wp, a00), wasm_v128_store(wp + 4, a01);
  if (CT > 1) wasm_v128_store(wp + co, a10), wasm_v128_store(wp + co + 4, a11);
  if (CT > 2) wasm_v128_store(wp + 2 * co, a20), wasm_v128_store(wp + 2 * co + 4, a21);
  if (CT > 3) wasm_v128_store(wp + 3 * co, a30), wasm_v128_store(wp + 3 * co + 4, a31);
}

// The same with 4 output channels (the last ones when co % 8 == 4).
static inline __attribute__((always_inline)) void tile4(const float* xp, const float* dp,
                                                        float* wp, int count, int xstep,
                                                        int dstep, int co, int CT) {
  v128_t a0 = wasm_v128_load(wp), a1 = a0, a2 = a0, a3 = a0;
  if (CT > 1) a1 = wasm_v128_load(wp + co);
  if (CT > 2) a2 = wasm_v128_load(wp + 2 * co);
  if (CT > 3) a3 = wasm_v128_load(wp + 3 * co);
  for (int q = 0; q < count; q++) {
    const v128_t d0 = wasm_v128_load(dp);
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load32_splat(xp), d0));
    if (CT > 1) a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load32_splat(xp + 1), d0));
    if (CT > 2) a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load32_splat(xp + 2), d0));
    if (CT > 3) a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load32_splat(xp + 3), d0));
    xp += xstep;
    dp += dstep;
  }
  wasm_v128_store(wp, a0);
  if (CT > 1) wasm_v128_store(wp + co, a1);
  if (CT > 2) wasm_v128_store(wp + 2 * co, a2);
  if (CT > 3) wasm_v128_store(wp + 3 * co, a3);
}

static inline __attribute__((always_inline)) void channels(const float* xp, const float* dp,
                                                           float* wp, int count, int xstep,
                                                           int co, int CT) {
  int o = 0;
  for (; o + 8 <= co; o += 8) tile8(xp, dp + o, wp + o, count, xstep, co, co, CT);
  if (o < co) tile4(xp, dp + o, wp + o, count, xstep, co, co, CT);
}

// dw[kh, kw, ci, co] += sum over images n0..n1-1 and output pixels of x (zero-padded by
// top/left and the input size) times dy. co must be a multiple of 4; pointers are byte
// offsets in the imported memory, 4-byte aligned.
EXPORT("conv2d_filter_grad")
void conv2d_filter_grad(const float* x, const float* dy, float* dw, int n0, int n1, int h,
                        int w, int ci, int ho, int wo, int co, int kh, int kw, int sh, int sw,
                        int top, int left) {
  for (int n = n0; n < n1; n++) {
    for (int p = 0; p < ho; p++) {
      const float* dyrow = dy + ((long)n * ho + p) * wo * co;
      for (int i = 0; i < kh; i++) {
        const int row = p * sh + i - top;
        if (row < 0 || row >= h) continue;
        const float* xrow = x + ((long)n * h + row) * w * ci;
        for (int j = 0; j < kw; j++) {
          // Output columns q whose input column q*sw + j - left lies inside [0, w).
          int qlo = left - j > 0 ? (left - j + sw - 1) / sw : 0;
          int qhi = (w - 1 - j + left) >= 0 ? (w - 1 - j + left) / sw + 1 : 0;
          if (qhi > wo) qhi = wo;
          if (qlo >= qhi) continue;
          const int count = qhi - qlo;
          const float* xq = xrow + (qlo * sw + j - left) * ci;
          const float* dq = dyrow + qlo * co;
          float* wt = dw + (i * kw + j) * ci * co;
          const int xstep = sw * ci;
          int c = 0;
          for (; c + 4 <= ci; c += 4) channels(xq + c, dq, wt + c * co, count, xstep, co, 4);
          switch (ci - c) {
            case 3: channels(xq + c, dq, wt + c * co, count, xstep, co, 3); break;
            case 2: channels(xq + c, dq, wt + c * co, count, xstep, co, 2); break;
            case 1: channels(xq + c, dq, wt + c * co, count, xstep, co, 1); break;
            default: break;
          }
        }
      }
    }
  }
}
