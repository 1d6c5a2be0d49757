// The forward NHWC conv2d, direct (no im2col, no packing), in WebAssembly SIMD, for
// @rxfit/backend. Four neighbouring output pixels by 8 output channels accumulate in registers
// while a 16-channel slice of the filter (kh*kw*ci*16 floats) stays in L1 or L2. XNNPACK packs
// the filter at every call (a new tensor each training step) and, with 3 input channels (a
// first layer), runs a reduction only 27 long: about half the matMul peak. Measured against it:
// 120-140% of the matMul peak for 3x3 and 5x5 filters, 16 to 128 input channels, against
// 97-106% (native: conv2d.ts gates which calls come here).
//
// Same rules as conv2d-filter-grad.c: no data segments, no stack, memory imported.

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))

// One output pixel, 16 output channels from o, every tap bounds-checked (border pixels).
static void pixel16(const float* x, const float* f, float* out, int h, int w, int ci, int co,
                    int kh, int kw, int row0, int col0) {
  v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
  for (int i = 0; i < kh; i++) {
    const int row = row0 + i;
    if (row < 0 || row >= h) continue;
    for (int j = 0; j < kw; j++) {
      const int col = col0 + j;
      if (col < 0 || col >= w) continue;
      const float* xp = x + ((long)row * w + col) * ci;
      const float* fp = f + (i * kw + j) * ci * co;
      for (int c = 0; c < ci; c++, fp += co) {
        const v128_t s = wasm_v128_load32_splat(xp + c);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(s, wasm_v128_load(fp)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(s, wasm_v128_load(fp + 4)));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(s, wasm_v128_load(fp + 8)));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(s, wasm_v128_load(fp + 12)));
      }
    }
  }
  wasm_v128_store(out, a0), wasm_v128_store(out + 4, a1);
  wasm_v128_store(out + 8, a2), wasm_v128_store(out + 12, a3);
}

// Four neighbouring output pixels (columns col0, col0 + sw, ...) by 16 output channels from
// o, in two halves of 8; taps rows ia..ib-1 (all inside the input), every column inside.
static inline __attribute__((always_inline)) void quad(const float* xn, const float* fo,
                                                       float* op, int w, int ci, int co, int kw,
                                                       int sw, int col0, int row0, int ia,
                                                       int ib, int kwci) {
  const int step = sw * ci;
  for (int oo = 0; oo < 16; oo += 8) {
    v128_t a0 = wasm_f32x4_splat(0), a1 = a0, b0 = a0, b1 = a0;
    v128_t c0 = a0, c1 = a0, d0 = a0, d1 = a0;
    for (int i = ia; i < ib; i++) {
      const float* xp = xn + ((long)(row0 + i) * w + col0) * ci;
      const float* fp = fo + oo + i * kw * ci * co;
      // The kw*ci values of one tap row are contiguous in x.
      for (int k = 0; k < kwci; k++, fp += co) {
        const v128_t f0 = wasm_v128_load(fp), f1 = wasm_v128_load(fp + 4);
        v128_t s = wasm_v128_load32_splat(xp + k);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(s, f0));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(s, f1));
        s = wasm_v128_load32_splat(xp + step + k);
        b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(s, f0));
        b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(s, f1));
        s = wasm_v128_load32_splat(xp + 2 * step + k);
        c0 = wasm_f32x4_add(c0, wasm_f32x4_mul(s, f0));
        c1 = wasm_f32x4_add(c1, wasm_f32x4_mul(s, f1));
        s = wasm_v128_load32_splat(xp + 3 * step + k);
        d0 = wasm_f32x4_add(d0, wasm_f32x4_mul(s, f0));
        d1 = wasm_f32x4_add(d1, wasm_f32x4_mul(s, f1));
      }
    }
    float* out = op + oo;
    wasm_v128_store(out, a0), wasm_v128_store(out + 4, a1);
    wasm_v128_store(out + co, b0), wasm_v128_store(out + co + 4, b1);
    wasm_v128_store(out + 2 * co, c0), wasm_v128_store(out + 2 * co + 4, c1);
    wasm_v128_store(out + 3 * co, d0), wasm_v128_store(out + 3 * co + 4, d1);
  }
}

// out[b, ho, wo, co] = conv of x[b, h, w, ci] (zero-padded by top/left) with f[kh, kw, ci, co],
// strides sh, sw; output rows r0..r1-1 of the b*ho rows (image r / ho, row r % ho), so that
// threads can split a batch of one. co must be a multiple of 16.
EXPORT("conv2d_direct")
void conv2d_direct(const float* x, const float* f, float* out, int r0, int r1, int h, int w,
                   int ci, int ho, int wo, int co, int kh, int kw, int sh, int sw, int top,
                   int left) {
  // Output columns whose whole window lies inside the input: [qa, qb).
  int qa = left > 0 ? (left + sw - 1) / sw : 0;
  int qb = (w - kw + left) >= 0 ? (w - kw + left) / sw + 1 : 0;
  if (qb > wo) qb = wo;
  if (qa > qb) qa = qb;
  for (int r = r0; r < r1; r++) {
    const int n = r / ho, p = r % ho;
    const float* xn = x + (long)n * h * w * ci;
    const int row0 = p * sh - top;
    float* orow = out + (((long)n * ho + p) * wo) * co;
    // Taps rows inside the input.
    int ia = row0 < 0 ? -row0 : 0;
    int ib = h - row0 < kh ? h - row0 : kh;
    for (int o = 0; o < co; o += 16) {
      const float* fo = f + o;
      int q = 0;
      for (; q < qa; q++)
        pixel16(xn, fo, orow + (long)q * co + o, h, w, ci, co, kh, kw, row0, q * sw - left);
      // Four neighbouring pixels by 8 channels, twice: 8 accumulators, 2 filter vectors and
      // 1 splat stay within V8's 16 SIMD registers. The tap-row length kw*ci is a constant
      // for the usual 3x3 kernels, so that clang unrolls the innermost loop.
      for (; q + 4 <= qb; q += 4) {
        float* op = orow + (long)q * co + o;
        switch (kw * ci) {
          case 3: quad(xn, fo, op, w, ci, co, kw, sw, q * sw - left, row0, ia, ib, 3); break;
          case 6: quad(xn, fo, op, w, ci, co, kw, sw, q * sw - left, row0, ia, ib, 6); break;
          case 9: quad(xn, fo, op, w, ci, co, kw, sw, q * sw - left, row0, ia, ib, 9); break;
          case 12: quad(xn, fo, op, w, ci, co, kw, sw, q * sw - left, row0, ia, ib, 12); break;
          default:
            quad(xn, fo, op, w, ci, co, kw, sw, q * sw - left, row0, ia, ib, kw * ci);
        }
      }
      for (; q < wo; q++)
        pixel16(xn, fo, orow + (long)q * co + o, h, w, ci, co, kh, kw, row0, q * sw - left);
    }
  }
}
