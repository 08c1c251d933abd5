// Runs the CUDA kernels of `kernels/<family>.cu` on the host, so that their index arithmetic
// and formulas are checked on every machine, GPU or not (`tests/host_kernels.rs` compiles and
// runs one program per family with the host C++ compiler).
//
// How: the CUDA keywords become plain C++ and the launch is one block of one thread, so every
// grid-stride and block-stride loop walks its whole range in order; `float` is redefined to
// `double` around the kernel source, so results can be compared exactly with plain-loop
// references and gradients with finite differences. What this does NOT check: float rounding,
// warp-level behaviour (the shuffles see one lane), races between threads, launch shapes.
// Those need the GPU (the conformance suite under `REQUIRE_GPU=1`).
//
// Each program mirrors the host code of its family (`src/ops/<family>.rs`): the same kernel
// arguments and the same GEMM shapes, leading dimensions and strides, through `gemm` below,
// which has the semantics of `CudaBackend::gemm` (row-major, batched with strides).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using std::isnan;
using std::max;
using std::min;

struct Dim3 {
    unsigned x, y, z;
};
static Dim3 blockIdx = {0, 0, 0};
static Dim3 threadIdx = {0, 0, 0};
static Dim3 blockDim = {1, 1, 1};
static Dim3 gridDim = {1, 1, 1};

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static
inline void __syncthreads() {}
// One lane: a shuffle from another lane contributes nothing to a sum.
inline double __shfl_down_sync(unsigned, double, int) {
    return 0.0;
}
#define expf(x) std::exp(x)
#define tanhf(x) std::tanh(x)

typedef double R;
typedef std::vector<R> V;

static int failures = 0;

// Fails (and counts) when `got` and `want` differ by more than `tol` anywhere.
inline void expect_close(const char* what, const V& got, const V& want, R tol) {
    R worst = got.size() == want.size() ? 0.0 : INFINITY;
    for (size_t i = 0; i < got.size() && i < want.size(); ++i) {
        const R d = std::fabs(got[i] - want[i]);
        if (!(d <= worst)) worst = d;
    }
    if (!(worst <= tol)) {
        std::printf("FAIL %s: max difference %g (tolerance %g)\n", what, worst, tol);
        ++failures;
    }
}

// `n` values uniform in [-1, 1).
inline V random_values(std::mt19937& rng, size_t n) {
    std::uniform_real_distribution<R> u(-1.0, 1.0);
    V v(n);
    for (auto& e : v) e = u(rng);
    return v;
}

// C = op(A)·op(B) + beta·C, row-major, `batch` products at strides sa, sb, sc.
inline void gemm(int m, int n, int k, bool ta, bool tb, int batch, R beta, const R* a, size_t lda,
                 size_t sa, const R* b, size_t ldb, size_t sb, R* c, size_t ldc, size_t sc) {
    for (int q = 0; q < batch; ++q)
        for (int i = 0; i < m; ++i)
            for (int j = 0; j < n; ++j) {
                R s = 0.0;
                for (int l = 0; l < k; ++l) {
                    const R av = ta ? a[q * sa + l * lda + i] : a[q * sa + i * lda + l];
                    const R bv = tb ? b[q * sb + j * ldb + l] : b[q * sb + l * ldb + j];
                    s += av * bv;
                }
                R& cv = c[q * sc + i * ldc + j];
                cv = (beta == 0.0 ? 0.0 : beta * cv) + s;
            }
}

inline int finish(const char* family) {
    std::printf("%s: %d failure(s)\n", family, failures);
    return failures == 0 ? 0 : 1;
}
