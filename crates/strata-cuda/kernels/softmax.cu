// Softmax family over the last axis of a [rows, cols] view: stable softmax and log-softmax
// (max subtracted), their backward passes, and the fused softmax cross-entropy with label
// smoothing and its backward pass. One block per row (grid-stride over rows), warp-shuffle
// block reductions (common.cuh); blockDim.x is a multiple of 32.

#include "common.cuh"

// y = softmax(x) (log_ = 0) or log_softmax(x) (log_ != 0), row by row.
extern "C" __global__ void softmax_forward(float* __restrict__ y, const float* __restrict__ x, u64 rows,
                                           u64 cols, int log_) {
    for (u64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        float m = -F_INF;
        for (u64 c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, xr[c]);
        m = block_max(m);
        float s = 0.0f;
        for (u64 c = threadIdx.x; c < cols; c += blockDim.x) s += expf(xr[c] - m);
        s = block_sum(s);
        if (log_) {
            const float log_sum = logf(s);
            for (u64 c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = (xr[c] - m) - log_sum;
        } else {
            const float inv = 1.0f / s;
            for (u64 c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = expf(xr[c] - m) * inv;
        }
    }
}

// softmax:     dx = y ⊙ (dy − Σ_j dy_j y_j)
// log_softmax: dx = dy − e^y · Σ_j dy_j
extern "C" __global__ void softmax_backward(float* __restrict__ dx, const float* __restrict__ y,
                                            const float* __restrict__ dy, u64 rows, u64 cols, int log_) {
    for (u64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* yr = y + r * cols;
        const float* gr = dy + r * cols;
        float* dr = dx + r * cols;
        float acc = 0.0f;
        for (u64 c = threadIdx.x; c < cols; c += blockDim.x) acc += log_ ? gr[c] : gr[c] * yr[c];
        acc = block_sum(acc);
        for (u64 c = threadIdx.x; c < cols; c += blockDim.x) {
            dr[c] = log_ ? gr[c] - expf(yr[c]) * acc : yr[c] * (gr[c] - acc);
        }
    }
}

// Fused cross-entropy from logits, row by row: loss[r] = log Σ e^(x − m) − target·(x − m) with
// target = (1 − ε)·onehot(label) + ε/cols, and probs = softmax(x). `keep` = 1 − ε and
// `off_target` = ε/cols come from the host (the CPU's f32 values). Labels were checked on the
// host; a label outside 0..cols still never reads out of bounds (its loss is NaN).
extern "C" __global__ void softmax_cross_entropy(float* __restrict__ loss, float* __restrict__ probs,
                                                 const float* __restrict__ logits,
                                                 const float* __restrict__ labels, u64 rows, u64 cols,
                                                 float keep, float off_target) {
    for (u64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = logits + r * cols;
        float* pr = probs + r * cols;
        float m = -F_INF;
        for (u64 c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, xr[c]);
        m = block_max(m);
        float s = 0.0f, shifted = 0.0f;
        for (u64 c = threadIdx.x; c < cols; c += blockDim.x) {
            const float d = xr[c] - m;
            const float e = expf(d);
            pr[c] = e;
            s += e;
            shifted += d;
        }
        s = block_sum(s);
        shifted = block_sum(shifted);
        const float inv = 1.0f / s;
        for (u64 c = threadIdx.x; c < cols; c += blockDim.x) pr[c] *= inv;
        if (threadIdx.x == 0) {
            const float label = labels[r];
            const bool valid = label >= 0.0f && label < (float)cols && label == floorf(label);
            if (valid) {
                const float target_dot = keep * (xr[(u64)label] - m) + off_target * shifted;
                loss[r] = logf(s) - target_dot;
            } else {
                loss[r] = __int_as_float(0x7fc00000);
            }
        }
    }
}

// dlogits[r, c] = dloss[r] · (p[r, c] − target[r, c]); on_target = 1 − ε + ε/cols.
extern "C" __global__ void softmax_cross_entropy_backward(float* __restrict__ dlogits,
                                                          const float* __restrict__ probs,
                                                          const float* __restrict__ labels,
                                                          const float* __restrict__ dloss, u64 rows,
                                                          u64 cols, float on_target, float off_target) {
    const u64 n = rows * cols;
    GRID_STRIDE(i, n) {
        u64 r, c;
        split_index(i, cols, n, &r, &c);
        const float g = dloss[r];
        const float target = labels[r] == (float)c ? on_target : off_target;
        dlogits[i] = g * (probs[i] - target);
    }
}
