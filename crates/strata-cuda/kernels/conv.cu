// 2-D convolution (NCHW) kernels: im2col / col2im around cuBLAS SGEMM, the moves between the
// NCHW tensors and the GEMM's `[channels, nb·P]` row matrices, and the bias gradient.
//
// The host (`src/ops/conv.rs`) processes the batch in chunks of `nb` samples starting at sample
// `n0`. A chunk's column matrix is `cols[K, nb·P]` with `K = C·kh·kw` (row `(c·kh + ky)·kw + kx`,
// column `i·P + oy·ow + ox` for sample `n0 + i`), so the rows of one group are contiguous and
// each group's product is one GEMM, exactly as on the CPU.
//
// Conventions: dimensions are `int`, element counts `unsigned long long`; every kernel is a
// grid-stride loop over its output, one thread per element, so any launch shape is correct.

#define GRID_STRIDE(i, n)                                                                    \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
         i += (long long)blockDim.x * gridDim.x)

// The element loops of the im2col / col2im / row-matrix kernels split each flat index into
// (row, sample, position, ...) with divisions, which cost several times more in 64 bits than in
// 32 on the GPU. So each of those kernels runs its loop in `unsigned` when the element count
// allows (the common case) and in `unsigned long long` otherwise; addresses are always formed in
// 64 bits. The host test lowers `CONV_NARROW_LIMIT` to run the 64-bit path too.
#ifndef CONV_NARROW_LIMIT
#define CONV_NARROW_LIMIT 0x7fffffffULL
#endif

// A grid-stride loop over `0..n` in the index type `I`.
#define GRID_STRIDE_T(I, i, n)                                              \
    for (I i = (I)blockIdx.x * (I)blockDim.x + (I)threadIdx.x; i < (I)(n); \
         i += (I)blockDim.x * (I)gridDim.x)

template <typename I>
__device__ __forceinline__ void conv_im2col_body(const float* __restrict__ x,
                                                 float* __restrict__ cols, I total, int n0, int nb,
                                                 int channels, int in_h, int in_w, int kernel_h,
                                                 int kernel_w, int stride_h, int stride_w,
                                                 int pad_top, int pad_left, int dilation_h,
                                                 int dilation_w, int out_h, int out_w) {
    const I p_len = (I)out_h * (I)out_w;
    const I ld = (I)nb * p_len;
    GRID_STRIDE_T(I, e, total) {
        const I r = e / ld;
        const I col = e - r * ld;
        const int i = (int)(col / p_len);
        const int p = (int)(col - (I)i * p_len);
        const int oy = p / out_w;
        const int ox = p - oy * out_w;
        const int kx = (int)(r % (I)kernel_w);
        const I rk = r / (I)kernel_w;
        const int ky = (int)(rk % (I)kernel_h);
        const int c = (int)(rk / (I)kernel_h);
        const int iy = oy * stride_h + ky * dilation_h - pad_top;
        const int ix = ox * stride_w + kx * dilation_w - pad_left;
        float v = 0.0f;
        if (iy >= 0 && iy < in_h && ix >= 0 && ix < in_w) {
            v = x[(((long long)(n0 + i) * channels + c) * in_h + iy) * in_w + ix];
        }
        cols[e] = v;
    }
}

// cols[r, i·P + p] = x[n0 + i, c, oy·sh + ky·dh − pt, ox·sw + kx·dw − pl] (0 outside the input),
// for all C channels of the chunk. `total` = C·kh·kw·nb·P.
extern "C" __global__ void conv_im2col(const float* __restrict__ x, float* __restrict__ cols,
                                       unsigned long long total, int n0, int nb, int channels,
                                       int in_h, int in_w, int kernel_h, int kernel_w, int stride_h,
                                       int stride_w, int pad_top, int pad_left, int dilation_h,
                                       int dilation_w, int out_h, int out_w) {
    if (total <= CONV_NARROW_LIMIT) {
        conv_im2col_body<unsigned>(x, cols, (unsigned)total, n0, nb, channels, in_h, in_w,
                                   kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left,
                                   dilation_h, dilation_w, out_h, out_w);
    } else {
        conv_im2col_body<unsigned long long>(x, cols, total, n0, nb, channels, in_h, in_w,
                                             kernel_h, kernel_w, stride_h, stride_w, pad_top,
                                             pad_left, dilation_h, dilation_w, out_h, out_w);
    }
}

template <typename I>
__device__ __forceinline__ void conv_col2im_body(const float* __restrict__ cols,
                                                 float* __restrict__ dx, I total, int n0, int nb,
                                                 int channels, int in_h, int in_w, int kernel_h,
                                                 int kernel_w, int stride_h, int stride_w,
                                                 int pad_top, int pad_left, int dilation_h,
                                                 int dilation_w, int out_h, int out_w) {
    const long long p_len = (long long)out_h * out_w;
    const long long ld = (long long)nb * p_len;
    GRID_STRIDE_T(I, e, total) {
        const int ix = (int)(e % (I)in_w);
        const I t1 = e / (I)in_w;
        const int iy = (int)(t1 % (I)in_h);
        const I t2 = t1 / (I)in_h;
        const int c = (int)(t2 % (I)channels);
        const int i = (int)(t2 / (I)channels);
        float acc = 0.0f;
        for (int ky = 0; ky < kernel_h; ++ky) {
            // oy·sh = iy + pt − ky·dh must be a non-negative multiple of sh below out_h·sh.
            const int ty = iy + pad_top - ky * dilation_h;
            if (ty < 0 || ty % stride_h != 0) continue;
            const int oy = ty / stride_h;
            if (oy >= out_h) continue;
            for (int kx = 0; kx < kernel_w; ++kx) {
                const int tx = ix + pad_left - kx * dilation_w;
                if (tx < 0 || tx % stride_w != 0) continue;
                const int ox = tx / stride_w;
                if (ox >= out_w) continue;
                const long long r = ((long long)c * kernel_h + ky) * kernel_w + kx;
                acc += cols[r * ld + (long long)i * p_len + (long long)oy * out_w + ox];
            }
        }
        dx[(long long)n0 * channels * in_h * in_w + (long long)e] = acc;
    }
}

// The adjoint of conv_im2col, as a gather (deterministic, no atomics): each input element of
// the chunk sums the column entries that read it. `dx` points at the whole input gradient;
// the chunk's samples are written (not accumulated). `total` = nb·C·H·W.
extern "C" __global__ void conv_col2im(const float* __restrict__ cols, float* __restrict__ dx,
                                       unsigned long long total, int n0, int nb, int channels,
                                       int in_h, int in_w, int kernel_h, int kernel_w, int stride_h,
                                       int stride_w, int pad_top, int pad_left, int dilation_h,
                                       int dilation_w, int out_h, int out_w) {
    if (total <= CONV_NARROW_LIMIT) {
        conv_col2im_body<unsigned>(cols, dx, (unsigned)total, n0, nb, channels, in_h, in_w,
                                   kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left,
                                   dilation_h, dilation_w, out_h, out_w);
    } else {
        conv_col2im_body<unsigned long long>(cols, dx, total, n0, nb, channels, in_h, in_w,
                                             kernel_h, kernel_w, stride_h, stride_w, pad_top,
                                             pad_left, dilation_h, dilation_w, out_h, out_w);
    }
}

// Moves a chunk between the NCHW tensor `nchw` (samples n0.., `O` channels of `P` positions) and
// the GEMM's row matrix `rows [O, nb·P]`: `to_rows` gathers (rows[o, i·P + p] = nchw[n0 + i, o,
// p]), otherwise scatters and adds the bias (nchw[n0 + i, o, p] = rows[o, i·P + p] + bias[o],
// bias may be null).
template <typename I>
__device__ __forceinline__ void conv_rows_body(const float* __restrict__ src,
                                               const float* __restrict__ bias,
                                               float* __restrict__ dst, I total, int n0, int nb,
                                               int out_channels, int p_len, bool to_rows) {
    const long long ld = (long long)nb * p_len;
    const long long base = (long long)n0 * out_channels * p_len;
    GRID_STRIDE_T(I, e, total) {
        const int p = (int)(e % (I)p_len);
        const I t = e / (I)p_len;
        const int o = (int)(t % (I)out_channels);
        const int i = (int)(t / (I)out_channels);
        const long long at_rows = o * ld + (long long)i * p_len + p;
        const long long at_nchw = base + (long long)e;
        if (to_rows) {
            dst[at_rows] = src[at_nchw];
        } else {
            dst[at_nchw] = src[at_rows] + (bias != nullptr ? bias[o] : 0.0f);
        }
    }
}

// y[n0 + i, o, p] = rows[o, i·P + p] + bias[o] (bias may be null). `total` = nb·O·P.
extern "C" __global__ void conv_scatter_output(const float* __restrict__ rows,
                                               const float* __restrict__ bias,
                                               float* __restrict__ y, unsigned long long total,
                                               int n0, int nb, int out_channels, int p_len) {
    if (total <= CONV_NARROW_LIMIT) {
        conv_rows_body<unsigned>(rows, bias, y, (unsigned)total, n0, nb, out_channels, p_len,
                                 false);
    } else {
        conv_rows_body<unsigned long long>(rows, bias, y, total, n0, nb, out_channels, p_len,
                                           false);
    }
}

// rows[o, i·P + p] = dy[n0 + i, o, p]: a chunk's output gradient as the GEMM's row matrix.
// `total` = nb·O·P.
extern "C" __global__ void conv_gather_grad(const float* __restrict__ dy, float* __restrict__ rows,
                                            unsigned long long total, int n0, int nb,
                                            int out_channels, int p_len) {
    if (total <= CONV_NARROW_LIMIT) {
        conv_rows_body<unsigned>(dy, nullptr, rows, (unsigned)total, n0, nb, out_channels, p_len,
                                 true);
    } else {
        conv_rows_body<unsigned long long>(dy, nullptr, rows, total, n0, nb, out_channels, p_len,
                                           true);
    }
}

// y[n, o, p] = bias[o]: the starting value the 1x1 fast path accumulates its GEMM onto.
// `total` = N·O·P.
extern "C" __global__ void conv_fill_bias(const float* __restrict__ bias, float* __restrict__ y,
                                          unsigned long long total, int out_channels, int p_len) {
    GRID_STRIDE(e, total) {
        y[e] = bias[(e / p_len) % out_channels];
    }
}

// Sum over the block; every thread gets the result. `scratch` holds at least 32 floats.
__device__ __forceinline__ float conv_block_sum(float v, float* scratch) {
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

// db[o] = Σ_{n, p} dy[n, o, p]. One block per output channel, block-strided over the channels
// (any grid; blockDim a multiple of 32, at most 1024).
extern "C" __global__ void conv_bias_backward(const float* __restrict__ dy, float* __restrict__ db,
                                              int batch, int out_channels, int p_len) {
    __shared__ float scratch[32];
    const long long per = (long long)batch * p_len;
    for (int o = blockIdx.x; o < out_channels; o += gridDim.x) {
        float acc = 0.0f;
        for (long long j = threadIdx.x; j < per; j += blockDim.x) {
            const long long n = j / p_len;
            const long long p = j - n * p_len;
            acc += dy[(n * out_channels + o) * p_len + p];
        }
        const float s = conv_block_sum(acc, scratch);
        if (threadIdx.x == 0) db[o] = s;
    }
}
