// Reduction family: sum / mean / max / min over any set of axes, argmax along one axis, and the
// sum of squares of a whole buffer. Block reductions use warp shuffles, then shared memory
// across warps (common.cuh); every order of summation is fixed, so results are deterministic.

#include "common.cuh"

#define R_SUM 0
#define R_MEAN 1
#define R_MAX 2
#define R_MIN 3

// One block per output element (grid-stride over outputs). `kept` walks the output's
// dimensions (strides into x, in `a`), `red` the reduced ones; output o reads
// x[kept(o) + red(j)] for j < count. Mean multiplies the sum by `scale` = 1/count.
extern "C" __global__ void reduce_axes(float* __restrict__ out, const float* __restrict__ x, u64 outputs,
                                       u64 count, int op, float scale, Strided kept, Strided red) {
    const float identity = op == R_MAX ? -F_INF : (op == R_MIN ? F_INF : 0.0f);
    for (u64 o = blockIdx.x; o < outputs; o += gridDim.x) {
        u64 base, unused;
        strided_offsets(kept, o, outputs, &base, &unused);
        float acc = identity;
        for (u64 j = threadIdx.x; j < count; j += blockDim.x) {
            u64 off;
            strided_offsets(red, j, count, &off, &unused);
            const float v = x[base + off];
            acc = op == R_MAX ? fmaxf(acc, v) : (op == R_MIN ? fminf(acc, v) : acc + v);
        }
        acc = op == R_MAX ? block_max(acc) : (op == R_MIN ? block_min(acc) : block_sum(acc));
        if (threadIdx.x == 0) out[o] = op == R_MEAN ? acc * scale : acc;
    }
}

// out[o] = the first index r < n of the largest x[outer, r, inner] (NaN ignored unless every
// value is NaN), for o = outer·inner_len + inner; one thread per output.
extern "C" __global__ void reduce_argmax(float* __restrict__ out, const float* __restrict__ x, u64 outputs,
                                         u64 n, u64 inner) {
    GRID_STRIDE(o, outputs) {
        const u64 outer = o / inner;
        const u64 in = o - outer * inner;
        const float* base = x + outer * n * inner + in;
        float best = base[0];
        u64 at = 0;
        for (u64 r = 1; r < n; ++r) {
            const float v = base[r * inner];
            if (v > best || (best != best && v == v)) {
                best = v;
                at = r;
            }
        }
        out[o] = (float)at;
    }
}

// out[block] = Σ x[i]² (square != 0) or Σ x[i] over the block's grid-stride share of x.
// sum_squares runs it twice: every block of the first pass writes a partial, then one block
// adds the partials.
extern "C" __global__ void reduce_sum_squares(float* __restrict__ out, const float* __restrict__ x, u64 n,
                                              int square) {
    float acc = 0.0f;
    GRID_STRIDE(i, n) {
        const float v = x[i];
        acc += square ? v * v : v;
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) out[blockIdx.x] = acc;
}
