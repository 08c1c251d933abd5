// Layout family: one strided copy that serves permute, broadcast_to, slice_axis and concat
// (the host merges dimensions first), and the embedding gather / scatter-add of rows.

#include "common.cuh"

// dst[dst_offset + b(i)] = src[src_offset + a(i)] for the n elements of the walk `s`
// (s.a: source strides, s.b: destination strides).
extern "C" __global__ void layout_copy(float* __restrict__ dst, const float* __restrict__ src, u64 n,
                                       u64 dst_offset, u64 src_offset, Strided s) {
    GRID_STRIDE(i, n) {
        u64 a, b;
        strided_offsets(s, i, n, &a, &b);
        dst[dst_offset + b] = src[src_offset + a];
    }
}

// out[i, c] = x[indices[i], c] for i < count, c < cols; x is [rows, cols]. Indices were
// checked on the host; one outside 0..rows still never reads out of bounds (its row is NaN).
extern "C" __global__ void layout_index_select_rows(float* __restrict__ out, const float* __restrict__ x,
                                                    const float* __restrict__ indices, u64 count,
                                                    u64 rows, u64 cols) {
    const u64 n = count * cols;
    GRID_STRIDE(e, n) {
        u64 i, c;
        split_index(e, cols, n, &i, &c);
        const float v = indices[i];
        const bool valid = v >= 0.0f && v < (float)rows;
        out[e] = valid ? x[(u64)v * cols + c] : __int_as_float(0x7fc00000);
    }
}

// out[indices[i], c] += src[i, c] with atomicAdd (rows that repeat accumulate; the order of
// additions, hence the last bits, may vary between runs). `out` must be zeroed first.
extern "C" __global__ void layout_index_add_rows(float* __restrict__ out, const float* __restrict__ src,
                                                 const float* __restrict__ indices, u64 count, u64 rows,
                                                 u64 cols) {
    const u64 n = count * cols;
    GRID_STRIDE(e, n) {
        u64 i, c;
        split_index(e, cols, n, &i, &c);
        const float v = indices[i];
        if (v >= 0.0f && v < (float)rows) atomicAdd(&out[(u64)v * cols + c], src[e]);
    }
}
