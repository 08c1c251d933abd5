// Runs the foundation kernels (`kernels/{elementwise,reduce,softmax,layout,random,optimizer}.cu`)
// on the host: CUDA keywords become plain C++, every launch is one block of one thread (so each
// grid-stride, row and column loop walks its whole range in order), and `common.cuh` sees
// STRATA_HOST_TEST, which makes a block reduction of one thread's value the value itself.
// Floats stay `float`, so the random port can be compared bit for bit with the Rust generator.
// What this does not check: warp shuffles, shared memory across threads, launch shapes and
// races (the GPU conformance suite does).
#pragma once
#include <math.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

struct Dim3 {
    unsigned x, y, z;
};
static Dim3 blockIdx = {0, 0, 0};
static Dim3 threadIdx = {0, 0, 0};
static Dim3 blockDim = {1, 1, 1};
static Dim3 gridDim = {1, 1, 1};

#define STRATA_HOST_TEST 1
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static
inline void __syncthreads() {}
inline float __int_as_float(int i) {
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
}
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float normcdff(float x) { return 0.5f * erfcf(-x * 0.70710678118654752f); }
inline float atomicAdd(float* p, float v) {
    const float old = *p;
    *p = old + v;
    return old;
}

#include "common.cuh"

typedef std::vector<float> V;
static int failures = 0;

// Fails when |got − want| > tol · max(1, |want|) anywhere (NaN must match NaN).
inline void expect_close(const char* what, const V& got, const std::vector<double>& want, double tol) {
    if (got.size() != want.size()) {
        std::printf("FAIL %s: %zu values, expected %zu\n", what, got.size(), want.size());
        ++failures;
        return;
    }
    for (size_t i = 0; i < got.size(); ++i) {
        const double g = got[i], w = want[i];
        const bool both_nan = std::isnan(g) && std::isnan(w);
        const double scale = std::fabs(w) > 1.0 ? std::fabs(w) : 1.0;
        if (!both_nan && !(std::fabs(g - w) <= tol * scale)) {
            std::printf("FAIL %s: element %zu is %.9g, expected %.9g\n", what, i, g, w);
            ++failures;
            return;
        }
    }
}

inline V random_values(std::mt19937& rng, size_t n, float lo = -2.0f, float hi = 2.0f) {
    std::uniform_real_distribution<float> u(lo, hi);
    V v(n);
    for (auto& e : v) e = u(rng);
    return v;
}

// A Strided walk over `dims` with operand strides `a` and `b` (no merging: the kernels must be
// right for any rank up to MAX_DIMS).
inline Strided walk(std::vector<u64> dims, std::vector<u64> a, std::vector<u64> b) {
    Strided s;
    std::memset(&s, 0, sizeof s);
    s.rank = (int)dims.size();
    for (size_t i = 0; i < dims.size(); ++i) {
        s.dims[i] = dims[i];
        s.a[i] = a[i];
        s.b[i] = b[i];
    }
    return s;
}

inline int finish(const char* family) {
    std::printf("%s: %d failure(s)\n", family, failures);
    return failures == 0 ? 0 : 1;
}
