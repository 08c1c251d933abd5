// Helpers shared by the kernel families: the grid-stride loop, N-d strided indexing and
// warp-shuffle / block reductions. Header only (`#include "common.cuh"`); `cargo xtask ptx`
// passes `-I kernels`.
#pragma once

typedef unsigned long long u64;

#define F_INF __int_as_float(0x7f800000)

// Every elementwise kernel loops with a grid stride, so any grid size is correct.
#define GRID_STRIDE(i, n) \
    for (u64 i = blockIdx.x * (u64)blockDim.x + threadIdx.x; i < (u64)(n); i += (u64)blockDim.x * gridDim.x)

// Up to 8 dimensions (after the host has merged every pair of adjacent dimensions it could).
#define MAX_DIMS 8

// An N-d walk over `dims` (row-major) with two strided operands `a` and `b` (strides in
// elements, 0 for a broadcast dimension). Mirrors `StridedArgs` in src/ops/strided.rs: same
// field order, passed by value.
struct Strided {
    u64 dims[MAX_DIMS];
    u64 a[MAX_DIMS];
    u64 b[MAX_DIMS];
    int rank;
};

// The offsets into `a` and `b` of element `i` of the row-major walk, with index arithmetic in
// `I` (32-bit division is several times cheaper than 64-bit on the GPU).
template <typename I>
__device__ __forceinline__ void strided_offsets_in(const Strided& s, I i, u64* oa, u64* ob) {
    u64 a = 0, b = 0;
    for (int d = s.rank - 1; d > 0; --d) {
        const I size = (I)s.dims[d];
        const I idx = i % size;
        i /= size;
        a += (u64)idx * s.a[d];
        b += (u64)idx * s.b[d];
    }
    // The outermost index needs no division: what is left of `i` is it.
    if (s.rank > 0) {
        a += (u64)i * s.a[0];
        b += (u64)i * s.b[0];
    }
    *oa = a;
    *ob = b;
}

// The offsets of element `i` of a walk of `n` elements: 32-bit arithmetic when `n` fits (then
// every dimension and every partial index fit too), 64-bit otherwise.
__device__ __forceinline__ void strided_offsets(const Strided& s, u64 i, u64 n, u64* oa, u64* ob) {
    if (n <= 0xffffffffull) {
        strided_offsets_in<unsigned int>(s, (unsigned int)i, oa, ob);
    } else {
        strided_offsets_in<u64>(s, i, oa, ob);
    }
}

// Splits `e` into (e / cols, e mod cols) for a walk of `n` elements, in 32-bit arithmetic
// when `n` fits.
__device__ __forceinline__ void split_index(u64 e, u64 cols, u64 n, u64* q, u64* r) {
    if (n <= 0xffffffffull) {
        const unsigned int q32 = (unsigned int)e / (unsigned int)cols;
        *q = q32;
        *r = (unsigned int)e - q32 * (unsigned int)cols;
    } else {
        *q = e / cols;
        *r = e - *q * cols;
    }
}

#ifdef STRATA_HOST_TEST
// Host emulation (tests/host_kernels/foundation.h): one thread per block, so a warp or block
// reduction of one value is the value itself.
__device__ __forceinline__ float block_sum(float v) { return v; }
__device__ __forceinline__ float block_max(float v) { return v; }
__device__ __forceinline__ float block_min(float v) { return v; }
#else
__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// fmaxf/fminf ignore a NaN operand, like Rust's f32::max/min on the CPU.
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ __forceinline__ float warp_min(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fminf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide reductions: every thread of the block must call them (blockDim.x a multiple of
// 32, at most 1024); every thread gets the result. Safe to call several times in a row.
#define BLOCK_REDUCE(name, warp_op, identity)                                 \
    __device__ __forceinline__ float name(float v) {                          \
        __shared__ float partial[32];                                         \
        __shared__ float result;                                              \
        const int lane = threadIdx.x & 31;                                    \
        const int warp = threadIdx.x >> 5;                                    \
        v = warp_op(v);                                                       \
        __syncthreads();                                                      \
        if (lane == 0) partial[warp] = v;                                     \
        __syncthreads();                                                      \
        if (warp == 0) {                                                      \
            v = (lane < (int)(blockDim.x >> 5)) ? partial[lane] : (identity); \
            v = warp_op(v);                                                   \
            if (lane == 0) result = v;                                        \
        }                                                                     \
        __syncthreads();                                                      \
        return result;                                                        \
    }

BLOCK_REDUCE(block_sum, warp_sum, 0.0f)
BLOCK_REDUCE(block_max, warp_max, -F_INF)
BLOCK_REDUCE(block_min, warp_min, F_INF)
#endif
