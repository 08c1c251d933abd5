// Max and average pooling (NCHW), forward and backward. A plane is one (sample, channel) pair;
// `planes` = N·C. Windows are clipped to the input: padding never wins a max and counts as
// zeros for the average, whose divisor is the window's size within the padded input
// (count_include_pad) or its count of real inputs. `out_h`/`out_w` come from the host, which
// applies ceil mode: a last window may then run past the padded input and is clipped there.
//
// Both backward kernels are gathers (one thread per input element, summing over the windows
// that cover it in output order), so they are deterministic, need no atomics and no zeroed
// output, and add in the same order as the CPU's scatter.
//
// Conventions: dimensions are `int`, element counts `unsigned long long`; grid-stride loops, one
// thread per output element, so any launch shape is correct.

#define GRID_STRIDE(i, n)                                                                    \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
         i += (long long)blockDim.x * gridDim.x)

// The output windows oy in [lo, hi) whose unclipped range oy·s − pad .. + k covers input row y.
__device__ __forceinline__ void pool_covering(int y, int stride, int pad, int kernel, int out_len,
                                              int* lo, int* hi) {
    // oy·s − pad ≤ y  ⇔  oy ≤ (y + pad) / s;   oy·s − pad + k > y  ⇔  oy > (y + pad − k) / s.
    const int t = y + pad - kernel + 1;
    int first = t <= 0 ? 0 : (t + stride - 1) / stride;
    int last = (y + pad) / stride + 1;
    if (last > out_len) last = out_len;
    if (first > last) first = last;
    *lo = first;
    *hi = last;
}

// 1 / the divisor of average window (oy, ox): its size within the padded input when
// `count_include_pad`, else its count of real inputs (never 0: every window holds one).
__device__ __forceinline__ float pool_avg_scale(int oy, int ox, int in_h, int in_w, int kernel_h,
                                                int kernel_w, int stride_h, int stride_w,
                                                int pad_h, int pad_w, int count_include_pad) {
    const int hs = oy * stride_h - pad_h, ws = ox * stride_w - pad_w;
    const int he = min(hs + kernel_h, in_h + pad_h), we = min(ws + kernel_w, in_w + pad_w);
    const int n = count_include_pad ? (he - hs) * (we - ws)
                                    : (min(he, in_h) - max(hs, 0)) * (min(we, in_w) - max(ws, 0));
    return 1.0f / (float)n;
}

// y = max of each window, idx = its position row·in_w + col in the plane (as f32): the first
// maximum in row-major order, a NaN beating any number (the first NaN then wins). An all −inf
// window reports its first element. `total` = planes·out_h·out_w.
extern "C" __global__ void pool_max_forward(const float* __restrict__ x, float* __restrict__ y,
                                            float* __restrict__ idx, unsigned long long total,
                                            int in_h, int in_w, int out_h, int out_w, int kernel_h,
                                            int kernel_w, int stride_h, int stride_w, int pad_h,
                                            int pad_w) {
    const long long p_len = (long long)out_h * out_w;
    GRID_STRIDE(e, total) {
        const long long plane = e / p_len;
        const int p = (int)(e - plane * p_len);
        const int oy = p / out_w;
        const int ox = p - oy * out_w;
        const int y0 = max(oy * stride_h - pad_h, 0);
        const int y1 = min(oy * stride_h - pad_h + kernel_h, in_h);
        const int x0 = max(ox * stride_w - pad_w, 0);
        const int x1 = min(ox * stride_w - pad_w + kernel_w, in_w);
        const float* src = x + plane * in_h * in_w;
        float best = -INFINITY;
        int at = y0 * in_w + x0;
        bool found_nan = false;
        for (int r = y0; r < y1 && !found_nan; ++r) {
            for (int c = x0; c < x1; ++c) {
                const float v = src[r * in_w + c];
                if (v > best || isnan(v)) {
                    best = v;
                    at = r * in_w + c;
                    if (isnan(v)) {
                        found_nan = true;
                        break;
                    }
                }
            }
        }
        y[e] = best;
        idx[e] = (float)at;
    }
}

// dx[plane, q] = Σ dy[plane, o] over the outputs o whose window covers q and whose index is q.
// `total` = planes·in_h·in_w.
extern "C" __global__ void pool_max_backward(const float* __restrict__ dy,
                                             const float* __restrict__ idx, float* __restrict__ dx,
                                             unsigned long long total, int in_h, int in_w,
                                             int out_h, int out_w, int kernel_h, int kernel_w,
                                             int stride_h, int stride_w, int pad_h, int pad_w) {
    const long long hw = (long long)in_h * in_w;
    const long long p_len = (long long)out_h * out_w;
    GRID_STRIDE(e, total) {
        const long long plane = e / hw;
        const int q = (int)(e - plane * hw);
        const int iy = q / in_w;
        const int ix = q - iy * in_w;
        int oy0, oy1, ox0, ox1;
        pool_covering(iy, stride_h, pad_h, kernel_h, out_h, &oy0, &oy1);
        pool_covering(ix, stride_w, pad_w, kernel_w, out_w, &ox0, &ox1);
        const float* d = dy + plane * p_len;
        const float* ids = idx + plane * p_len;
        const float qf = (float)q;
        float acc = 0.0f;
        for (int oy = oy0; oy < oy1; ++oy) {
            for (int ox = ox0; ox < ox1; ++ox) {
                const int o = oy * out_w + ox;
                if (ids[o] == qf) acc += d[o];
            }
        }
        dx[e] = acc;
    }
}

// y = (Σ of the clipped window) / its divisor. `total` = planes·out_h·out_w.
extern "C" __global__ void pool_avg_forward(const float* __restrict__ x, float* __restrict__ y,
                                            unsigned long long total, int in_h, int in_w, int out_h,
                                            int out_w, int kernel_h, int kernel_w, int stride_h,
                                            int stride_w, int pad_h, int pad_w,
                                            int count_include_pad) {
    const long long p_len = (long long)out_h * out_w;
    GRID_STRIDE(e, total) {
        const long long plane = e / p_len;
        const int p = (int)(e - plane * p_len);
        const int oy = p / out_w;
        const int ox = p - oy * out_w;
        const int y0 = max(oy * stride_h - pad_h, 0);
        const int y1 = min(oy * stride_h - pad_h + kernel_h, in_h);
        const int x0 = max(ox * stride_w - pad_w, 0);
        const int x1 = min(ox * stride_w - pad_w + kernel_w, in_w);
        const float* src = x + plane * in_h * in_w;
        float s = 0.0f;
        for (int r = y0; r < y1; ++r) {
            for (int c = x0; c < x1; ++c) s += src[r * in_w + c];
        }
        y[e] = s * pool_avg_scale(oy, ox, in_h, in_w, kernel_h, kernel_w, stride_h, stride_w,
                                  pad_h, pad_w, count_include_pad);
    }
}

// dx[plane, q] = Σ dy[plane, o] / divisor(o) over the windows o covering q.
// `total` = planes·in_h·in_w.
extern "C" __global__ void pool_avg_backward(const float* __restrict__ dy, float* __restrict__ dx,
                                             unsigned long long total, int in_h, int in_w,
                                             int out_h, int out_w, int kernel_h, int kernel_w,
                                             int stride_h, int stride_w, int pad_h, int pad_w,
                                             int count_include_pad) {
    const long long hw = (long long)in_h * in_w;
    const long long p_len = (long long)out_h * out_w;
    GRID_STRIDE(e, total) {
        const long long plane = e / hw;
        const int q = (int)(e - plane * hw);
        const int iy = q / in_w;
        const int ix = q - iy * in_w;
        int oy0, oy1, ox0, ox1;
        pool_covering(iy, stride_h, pad_h, kernel_h, out_h, &oy0, &oy1);
        pool_covering(ix, stride_w, pad_w, kernel_w, out_w, &ox0, &ox1);
        const float* d = dy + plane * p_len;
        float acc = 0.0f;
        for (int oy = oy0; oy < oy1; ++oy) {
            for (int ox = ox0; ox < ox1; ++ox)
                acc += d[oy * out_w + ox] * pool_avg_scale(oy, ox, in_h, in_w, kernel_h, kernel_w,
                                                           stride_h, stride_w, pad_h, pad_w,
                                                           count_include_pad);
        }
        dx[e] = acc;
    }
}
