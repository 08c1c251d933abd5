// Optimizer family: fused updates, one pass over a parameter, its gradient and its state, in
// the order of operations of torch.optim (and of the CPU backend). The step-dependent constants
// (bias corrections, decayed learning rates) are computed on the host in f64, as the CPU does,
// and passed in as f32.

#include "common.cuh"

// lerp(start, end, w) as torch computes it (and the CPU backend).
__device__ __forceinline__ float lerp_torch(float start, float end, float w) {
    return w < 0.5f ? start + w * (end - start) : end - (end - start) * (1.0f - w);
}

// SGD. flags: bit 0 momentum, bit 1 weight decay, bit 2 first step, bit 3 nesterov.
// damp = 1 − dampening. `buf` is only touched with momentum.
extern "C" __global__ void optimizer_sgd(float* __restrict__ p, const float* __restrict__ g,
                                         float* __restrict__ buf, u64 n, float lr, float momentum,
                                         float damp, float weight_decay, int flags) {
    const bool use_momentum = flags & 1, wd = flags & 2, first = flags & 4, nesterov = flags & 8;
    GRID_STRIDE(i, n) {
        const float pi = p[i];
        float gi = wd ? g[i] + weight_decay * pi : g[i];
        if (use_momentum) {
            const float b = first ? gi : buf[i] * momentum + damp * gi;
            buf[i] = b;
            gi = nesterov ? gi + momentum * b : b;
        }
        p[i] = pi + -lr * gi;
    }
}

// Adam / AdamW. l2: add weight_decay·p to the gradient (Adam); shrink = 1 − lr·wd for AdamW
// (1 otherwise). neg_step_size = −lr / (1 − β1^t), bias_c2_sqrt = √(1 − β2^t).
extern "C" __global__ void optimizer_adam(float* __restrict__ p, const float* __restrict__ g,
                                          float* __restrict__ m, float* __restrict__ v, u64 n,
                                          float beta2, float w1, float w2, float eps,
                                          float weight_decay, int l2, float shrink,
                                          float neg_step_size, float bias_c2_sqrt) {
    GRID_STRIDE(i, n) {
        float pi = p[i];
        const float gi = l2 ? g[i] + weight_decay * pi : g[i];
        pi *= shrink;
        const float mi = lerp_torch(m[i], gi, w1);
        const float vi = v[i] * beta2 + w2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        const float denom = sqrtf(vi) / bias_c2_sqrt + eps;
        p[i] = pi + neg_step_size * mi / denom;
    }
}

// RMSprop (not centered). w = 1 − α. `buf` is only touched with momentum (use_momentum != 0).
extern "C" __global__ void optimizer_rmsprop(float* __restrict__ p, const float* __restrict__ g,
                                             float* __restrict__ sq, float* __restrict__ buf, u64 n,
                                             float lr, float alpha, float w, float eps,
                                             float weight_decay, float momentum, int use_wd,
                                             int use_momentum) {
    GRID_STRIDE(i, n) {
        const float pi = p[i];
        const float gi = use_wd ? g[i] + weight_decay * pi : g[i];
        const float s = sq[i] * alpha + w * gi * gi;
        sq[i] = s;
        const float avg = sqrtf(s) + eps;
        if (use_momentum) {
            const float b = buf[i] * momentum + gi / avg;
            buf[i] = b;
            p[i] = pi + -lr * b;
        } else {
            p[i] = pi + -lr * gi / avg;
        }
    }
}

// Adagrad. neg_clr = −lr / (1 + (step − 1)·lr_decay).
extern "C" __global__ void optimizer_adagrad(float* __restrict__ p, const float* __restrict__ g,
                                             float* __restrict__ sum, u64 n, float neg_clr,
                                             float eps, float weight_decay, int use_wd) {
    GRID_STRIDE(i, n) {
        const float pi = p[i];
        const float gi = use_wd ? g[i] + weight_decay * pi : g[i];
        const float s = sum[i] + gi * gi;
        sum[i] = s;
        const float std_dev = sqrtf(s) + eps;
        p[i] = pi + neg_clr * gi / std_dev;
    }
}

// x[i] *= s
extern "C" __global__ void optimizer_scale(float* __restrict__ x, u64 n, float s) {
    GRID_STRIDE(i, n) { x[i] *= s; }
}

// x[i] = clamp(x[i], −limit, limit) (NaN stays NaN, as on the CPU)
extern "C" __global__ void optimizer_clamp(float* __restrict__ x, u64 n, float limit) {
    GRID_STRIDE(i, n) {
        const float v = x[i];
        x[i] = v < -limit ? -limit : (v > limit ? limit : v);
    }
}
