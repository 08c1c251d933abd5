// Buffer family: fill and in-place accumulation (BufferOps::full, BufferOps::add_assign).
// Every kernel loops with a grid stride, so any grid size is correct.

#define GRID_STRIDE(i, n) \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)blockDim.x * gridDim.x)

// out[i] = value for i < n.
extern "C" __global__ void buffer_fill(float* out, float value, unsigned long long n) {
    GRID_STRIDE(i, n) { out[i] = value; }
}

// dst[i] += src[i] for i < n.
extern "C" __global__ void buffer_add_assign(float* dst, const float* src, unsigned long long n) {
    GRID_STRIDE(i, n) { dst[i] += src[i]; }
}
