// The gradient of an NHWC max pool whose windows tile the input (window = stride, no
// padding), in WebAssembly SIMD, for @rxfit/backend: one pass that reads x, y and dy once and
// writes dx once. Exact, ties included: within a window (row-major) the first cell equal to
// the pooled maximum y takes dy, as on tfjs' cpu backend. (The stock wasm kernel seeds its
// running maximum with FLT_MIN and is wrong for windows whose values are all <= 0.)
//
// Same rules as conv2d-filter-grad.c: no data segments, no stack, memory imported.

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))

static void zero(float* p, long count) {
  for (long k = 0; k < count; k++) p[k] = 0.0f;
}

// dx[b, h, w, c] for images n0..n1-1; y and dy are [b, ho, wo, c]; kh, kw the window (and
// stride). Cells outside the ho*kh by wo*kw windowed area get 0.
EXPORT("max_pool_grad_tiled")
void max_pool_grad_tiled(const float* x, const float* y, const float* dy, float* dx, int n0,
                         int n1, int h, int w, int c, int ho, int wo, int kh, int kw) {
  const int c4 = c & ~3;
  for (int n = n0; n < n1; n++) {
    for (int po = 0; po < ho; po++) {
      const long rowBase = ((long)n * h + (long)po * kh) * w;
      for (int qo = 0; qo < wo; qo++) {
        const long out = (((long)n * ho + po) * wo + qo) * c;
        const long cell0 = (rowBase + (long)qo * kw) * c;
        int ch = 0;
        for (; ch < c4; ch += 4) {
          const v128_t yv = wasm_v128_load(y + out + ch);
          const v128_t dv = wasm_v128_load(dy + out + ch);
          v128_t taken = wasm_i32x4_splat(0);
          for (int i = 0; i < kh; i++) {
            for (int j = 0; j < kw; j++) {
              const long at = cell0 + ((long)i * w + j) * c + ch;
              const v128_t hit = wasm_v128_andnot(wasm_f32x4_eq(wasm_v128_load(x + at), yv), taken);
              wasm_v128_store(dx + at, wasm_v128_and(hit, dv));
              taken = wasm_v128_or(taken, hit);
            }
          }
        }
        for (; ch < c; ch++) {
          const float yv = y[out + ch];
          int taken = 0;
          for (int i = 0; i < kh; i++) {
            for (int j = 0; j < kw; j++) {
              const long at = cell0 + ((long)i * w + j) * c + ch;
              const int hit = !taken && x[at] == yv;
              dx[at] = hit ? dy[out + ch] : 0.0f;
              taken |= hit;
            }
          }
        }
      }
      // Columns right of the last window.
      if (wo * kw < w) {
        for (int i = 0; i < kh; i++) {
          zero(dx + (rowBase + (long)i * w + (long)wo * kw) * c, (long)(w - wo * kw) * c);
        }
      }
    }
    // Rows below the last window.
    if (ho * kh < h) {
      zero(dx + ((long)n * h + (long)ho * kh) * w * c, (long)(h - ho * kh) * w * c);
    }
  }
}
