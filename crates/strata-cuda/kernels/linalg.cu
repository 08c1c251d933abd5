// Linear-algebra helpers around cuBLAS: seeding a GEMM's output with a bias row, and the
// column sums of a matrix (a bias gradient).

#include "common.cuh"

// out[i] = bias[i mod n] for i < total (every row of out is the bias).
extern "C" __global__ void linalg_bias_rows(float* __restrict__ out, const float* __restrict__ bias,
                                            u64 total, u64 n) {
    GRID_STRIDE(i, total) { out[i] = bias[i % n]; }
}

// out[j] = Σ_i x[i, j] for x of shape [rows, cols].
// Block (32, 8): threadIdx.x picks a column of the block's 32, threadIdx.y one of 8 row lanes;
// lane y sums rows y, y + 8, ... (reads of a warp are 32 consecutive columns: coalesced), then
// the 8 partial sums of a column are added in shared memory in a fixed order (deterministic).
// Grid: x over column tiles (grid-stride), y = 1.
extern "C" __global__ void linalg_sum_rows(float* __restrict__ out, const float* __restrict__ x,
                                           u64 rows, u64 cols) {
    __shared__ float partial[8][33];
    for (u64 tile = blockIdx.x; tile * 32 < cols; tile += gridDim.x) {
        const u64 j = tile * 32 + threadIdx.x;
        float acc = 0.0f;
        if (j < cols) {
            for (u64 i = threadIdx.y; i < rows; i += 8) acc += x[i * cols + j];
        }
        partial[threadIdx.y][threadIdx.x] = acc;
        __syncthreads();
        if (threadIdx.y == 0 && j < cols) {
            float s = 0.0f;
            for (int y = 0; y < 8; ++y) s += partial[y][threadIdx.x];
            out[j] = s;
        }
        __syncthreads();
    }
}
