// A small float32 GEMM for the dense layers of a training step, in WebAssembly SIMD, for
// @rxfit/backend: C[m, n] = A[m, k] · B[k, n] with B's rows contiguous (the weights of a dense
// layer, or dy), A read through any row and column strides (so Aᵀ costs no transpose). XNNPACK
// repacks B at every call (it is a new tensor every step), which leaves a batch-32 dense layer
// at 40-65% of the matMul peak. Here B is read in place in blocks of KB rows that stay in L2
// while every 4-row by 8-column tile of C accumulates over them in registers.
//
// Same rules as conv2d-filter-grad.c: no data segments, no stack, memory imported.

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define KB 256

// Rows m0..m1-1 of C (overwritten). n must be a multiple of 8. A(i, p) = a[i*ars + p*acs].
EXPORT("gemm")
void gemm(const float* a, const float* b, float* c, int m0, int m1, int n, int k, int ars,
          int acs) {
  for (int p0 = 0; p0 < k; p0 += KB) {
    const int p1 = p0 + KB < k ? p0 + KB : k;
    const int first = p0 == 0;
    for (int j = 0; j < n; j += 8) {
      int i = m0;
      for (; i + 4 <= m1; i += 4) {
        float* c0 = c + (long)i * n + j;
        v128_t x0, x1, y0, y1, z0, z1, w0, w1;
        if (first) {
          x0 = x1 = y0 = y1 = z0 = z1 = w0 = w1 = wasm_f32x4_splat(0);
        } else {
          x0 = wasm_v128_load(c0), x1 = wasm_v128_load(c0 + 4);
          y0 = wasm_v128_load(c0 + n), y1 = wasm_v128_load(c0 + n + 4);
          z0 = wasm_v128_load(c0 + 2 * n), z1 = wasm_v128_load(c0 + 2 * n + 4);
          w0 = wasm_v128_load(c0 + 3 * n), w1 = wasm_v128_load(c0 + 3 * n + 4);
        }
        const float* ap = a + (long)i * ars + (long)p0 * acs;
        const float* bp = b + (long)p0 * n + j;
        for (int p = p0; p < p1; p++, ap += acs, bp += n) {
          const v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
          v128_t s = wasm_v128_load32_splat(ap);
          x0 = wasm_f32x4_add(x0, wasm_f32x4_mul(s, b0));
          x1 = wasm_f32x4_add(x1, wasm_f32x4_mul(s, b1));
          s = wasm_v128_load32_splat(ap + ars);
          y0 = wasm_f32x4_add(y0, wasm_f32x4_mul(s, b0));
          y1 = wasm_f32x4_add(y1, wasm_f32x4_mul(s, b1));
          s = wasm_v128_load32_splat(ap + 2 * ars);
          z0 = wasm_f32x4_add(z0, wasm_f32x4_mul(s, b0));
          z1 = wasm_f32x4_add(z1, wasm_f32x4_mul(s, b1));
          s = wasm_v128_load32_splat(ap + 3 * ars);
          w0 = wasm_f32x4_add(w0, wasm_f32x4_mul(s, b0));
          w1 = wasm_f32x4_add(w1, wasm_f32x4_mul(s, b1));
        }
        wasm_v128_store(c0, x0), wasm_v128_store(c0 + 4, x1);
        wasm_v128_store(c0 + n, y0), wasm_v128_store(c0 + n + 4, y1);
        wasm_v128_store(c0 + 2 * n, z0), wasm_v128_store(c0 + 2 * n + 4, z1);
        wasm_v128_store(c0 + 3 * n, w0), wasm_v128_store(c0 + 3 * n + 4, w1);
      }
      for (; i < m1; i++) {
        float* c0 = c + (long)i * n + j;
        v128_t x0 = first ? wasm_f32x4_splat(0) : wasm_v128_load(c0);
        v128_t x1 = first ? wasm_f32x4_splat(0) : wasm_v128_load(c0 + 4);
        const float* ap = a + (long)i * ars + (long)p0 * acs;
        const float* bp = b + (long)p0 * n + j;
        for (int p = p0; p < p1; p++, ap += acs, bp += n) {
          const v128_t s = wasm_v128_load32_splat(ap);
          x0 = wasm_f32x4_add(x0, wasm_f32x4_mul(s, wasm_v128_load(bp)));
          x1 = wasm_f32x4_add(x1, wasm_f32x4_mul(s, wasm_v128_load(bp + 4)));
        }
        wasm_v128_store(c0, x0), wasm_v128_store(c0 + 4, x1);
      }
    }
  }
}
