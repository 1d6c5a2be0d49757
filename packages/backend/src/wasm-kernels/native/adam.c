// One Adam update of a variable in a single memory pass, in WebAssembly SIMD, for
// @rxfit/backend. tfjs' AdamOptimizer runs about 13 element-wise ops per variable, each a full
// pass over memory with its own dispatch (a dense layer's 6272x128 kernel: 3.2 MB a pass). Here
// each element reads g, m, v, w once and writes m, v, w once, with tfjs' float32 arithmetic in
// tfjs' order (no fused multiply-add: wasm SIMD has none), so results match tfjs bit for bit:
//
//   m' = m*beta1 + g*(1 - beta1)           v' = v*beta2 + (g*g)*(1 - beta2)
//   w' = ((m' / (1 - accBeta1)) / (sqrt(v' / (1 - accBeta2)) + eps)) * (-lr) + w
//
// The float32 scalars come as their bit patterns (worker threads pass int32 arguments). Each
// output may be its input (an in-place update) or another buffer.
//
// Same rules as conv2d-filter-grad.c: no data segments, no stack, memory imported.

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define F32(bits) __builtin_bit_cast(float, bits)

// Elements i0..i1-1. s1 = 1 - beta1, s2 = 1 - beta2, c1 = 1 - accBeta1, c2 = 1 - accBeta2,
// nlr = -learningRate, all float32 as tfjs rounds them.
EXPORT("adam")
void adam(const float* g, const float* m, const float* v, const float* w, float* mo, float* vo,
          float* wo, int i0, int i1, int beta1Bits, int s1Bits, int beta2Bits, int s2Bits,
          int c1Bits, int c2Bits, int epsBits, int nlrBits) {
  const float b1 = F32(beta1Bits), s1 = F32(s1Bits), b2 = F32(beta2Bits), s2 = F32(s2Bits);
  const float c1 = F32(c1Bits), c2 = F32(c2Bits), eps = F32(epsBits), nlr = F32(nlrBits);
  const v128_t B1 = wasm_f32x4_splat(b1), S1 = wasm_f32x4_splat(s1);
  const v128_t B2 = wasm_f32x4_splat(b2), S2 = wasm_f32x4_splat(s2);
  const v128_t C1 = wasm_f32x4_splat(c1), C2 = wasm_f32x4_splat(c2);
  const v128_t E = wasm_f32x4_splat(eps), N = wasm_f32x4_splat(nlr);
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v128_t gi = wasm_v128_load(g + i);
    const v128_t nm = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), B1),
                                     wasm_f32x4_mul(gi, S1));
    const v128_t nv = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), B2),
                                     wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), S2));
    const v128_t den = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_div(nv, C2)), E);
    const v128_t step = wasm_f32x4_mul(wasm_f32x4_div(wasm_f32x4_div(nm, C1), den), N);
    const v128_t nw = wasm_f32x4_add(step, wasm_v128_load(w + i));
    wasm_v128_store(mo + i, nm);
    wasm_v128_store(vo + i, nv);
    wasm_v128_store(wo + i, nw);
  }
  for (; i < i1; i++) {
    const float gi = g[i];
    const float nm = m[i] * b1 + gi * s1;
    const float nv = v[i] * b2 + (gi * gi) * s2;
    const float nw = ((nm / c1) / (__builtin_sqrtf(nv / c2) + eps)) * nlr + w[i];
    mo[i] = nm, vo[i] = nv, wo[i] = nw;
  }
}
