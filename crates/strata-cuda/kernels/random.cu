// Random family: the counter-based generator of `strata_backend::random`, ported bit for bit,
// so that the same seed gives the same tensor (and the same dropout mask) on the CPU and here.
//
// Element i of stream `seed` is a SplitMix64 hash of seed + (i + 1)·φ (64-bit wrapping
// arithmetic, which unsigned long long does natively). The affine maps use __fmul_rn /
// __fadd_rn so that nvcc cannot contract them into an FMA the CPU does not do.

#include "common.cuh"

#define GOLDEN 0x9E3779B97F4A7C15ull
#define TAU_F 6.28318548202514648438f  // f32::consts::TAU

__device__ __forceinline__ u64 hash_at(u64 seed, u64 index) {
    u64 z = seed + (index + 1ull) * GOLDEN;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// A uniform draw in [0, 1) with 24 random bits (exact in f32).
__device__ __forceinline__ float uniform_at(u64 seed, u64 index) {
    return __fmul_rn((float)(hash_at(seed, index) >> 40), 1.0f / 16777216.0f);
}

// Box-Muller on the uniforms at 2·index and 2·index + 1, as the CPU does.
__device__ __forceinline__ float normal_at(u64 seed, u64 index) {
    const float u1 = __fsub_rn(1.0f, uniform_at(seed, 2ull * index));
    const float u2 = uniform_at(seed, 2ull * index + 1ull);
    return __fmul_rn(sqrtf(__fmul_rn(-2.0f, logf(u1))), cosf(__fmul_rn(TAU_F, u2)));
}

// out[i] = low + span · uniform_at(seed, i)
extern "C" __global__ void random_uniform(float* __restrict__ out, u64 n, float low, float span, u64 seed) {
    GRID_STRIDE(i, n) { out[i] = __fadd_rn(low, __fmul_rn(span, uniform_at(seed, i))); }
}

// out[i] = mean + std · normal_at(seed, i)
extern "C" __global__ void random_normal(float* __restrict__ out, u64 n, float mean, float std_dev, u64 seed) {
    GRID_STRIDE(i, n) { out[i] = __fadd_rn(mean, __fmul_rn(std_dev, normal_at(seed, i))); }
}

// mask[i] = uniform_at(seed, i) >= p ? keep : 0; y[i] = x[i] · mask[i] (keep = 1/(1 − p),
// computed on the host exactly as the CPU does).
extern "C" __global__ void random_dropout(float* __restrict__ y, float* __restrict__ mask,
                                          const float* __restrict__ x, u64 n, float p, float keep,
                                          u64 seed) {
    GRID_STRIDE(i, n) {
        const float m = uniform_at(seed, i) >= p ? keep : 0.0f;
        mask[i] = m;
        y[i] = __fmul_rn(x[i], m);
    }
}

// The raw hash, for the bit-exactness test of the port (out holds 2 words per element: low, high).
extern "C" __global__ void random_hash(unsigned int* __restrict__ out, u64 n, u64 seed) {
    GRID_STRIDE(i, n) {
        const u64 h = hash_at(seed, i);
        out[2 * i] = (unsigned int)(h & 0xffffffffull);
        out[2 * i + 1] = (unsigned int)(h >> 32);
    }
}
