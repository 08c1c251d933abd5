// Per-channel statistics and affine maps of a `[batch, channels, spatial]` tensor: the pieces
// batch normalization is made of. The reductions run one block per channel, block-strided over
// the channels (any grid; blockDim a multiple of 32, at most 1024), each thread striding over
// the channel's batch·spatial values, then a warp-shuffle + shared-memory block sum.
//
// Conventions: dimensions are `int`, element counts `unsigned long long`.

#define GRID_STRIDE(i, n)                                                                    \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
         i += (long long)blockDim.x * gridDim.x)

// Sum over the block; every thread gets the result. `scratch` holds at least 32 floats and is
// free again when the function returns.
__device__ __forceinline__ float norm_block_sum(float v, float* scratch) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    const unsigned warps = (blockDim.x + 31) >> 5;
    v = (threadIdx.x < warps) ? scratch[threadIdx.x] : 0.0f;
    if (warp == 0) {
        for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
        if (lane == 0) scratch[0] = v;
    }
    __syncthreads();
    const float out = scratch[0];
    __syncthreads();
    return out;
}

// The j-th value of channel c: x[n, c, s] with n = j / spatial, s = j % spatial.
__device__ __forceinline__ long long norm_at(long long j, int c, int channels, int spatial) {
    const long long n = j / spatial;
    const long long s = j - n * spatial;
    return (n * channels + c) * spatial + s;
}

// mean[c] and the biased variance var[c] (two passes: the mean, then Σ (x − mean)²), an empty
// channel giving 0 and 0.
extern "C" __global__ void norm_channel_stats(const float* __restrict__ x, float* __restrict__ mean,
                                              float* __restrict__ var, int batch, int channels,
                                              int spatial) {
    __shared__ float scratch[32];
    const long long per = (long long)batch * spatial;
    const float count = per > 0 ? (float)per : 1.0f;
    for (int c = blockIdx.x; c < channels; c += gridDim.x) {
        float acc = 0.0f;
        for (long long j = threadIdx.x; j < per; j += blockDim.x) {
            acc += x[norm_at(j, c, channels, spatial)];
        }
        const float mu = norm_block_sum(acc, scratch) / count;
        float sq = 0.0f;
        for (long long j = threadIdx.x; j < per; j += blockDim.x) {
            const float d = x[norm_at(j, c, channels, spatial)] - mu;
            sq += d * d;
        }
        const float v = norm_block_sum(sq, scratch) / count;
        if (threadIdx.x == 0) {
            mean[c] = mu;
            var[c] = v;
        }
    }
}

// y[n, c, s] = x[n, c, s]·scale[c] + shift[c]. `total` = batch·channels·spatial.
extern "C" __global__ void norm_channel_affine(const float* __restrict__ x,
                                               const float* __restrict__ scale,
                                               const float* __restrict__ shift,
                                               float* __restrict__ y, unsigned long long total,
                                               int channels, int spatial) {
    GRID_STRIDE(e, total) {
        const int c = (int)((e / spatial) % channels);
        y[e] = x[e] * scale[c] + shift[c];
    }
}

// dscale[c] = Σ dy·x and dshift[c] = Σ dy over the channel, in one pass.
extern "C" __global__ void norm_channel_affine_backward(const float* __restrict__ dy,
                                                        const float* __restrict__ x,
                                                        float* __restrict__ dscale,
                                                        float* __restrict__ dshift, int batch,
                                                        int channels, int spatial) {
    __shared__ float scratch[32];
    const long long per = (long long)batch * spatial;
    for (int c = blockIdx.x; c < channels; c += gridDim.x) {
        float a = 0.0f;
        float b = 0.0f;
        for (long long j = threadIdx.x; j < per; j += blockDim.x) {
            const long long at = norm_at(j, c, channels, spatial);
            const float g = dy[at];
            a += g * x[at];
            b += g;
        }
        const float sa = norm_block_sum(a, scratch);
        const float sb = norm_block_sum(b, scratch);
        if (threadIdx.x == 0) {
            dscale[c] = sa;
            dshift[c] = sb;
        }
    }
}
