// Stage 1 statistics of hsof-select's CUDA backend, compiled at run time by NVRTC.
//
// The matrix is column-major f32: column j is x[j * n .. (j + 1) * n]. Every reduction
// accumulates in double, as the CPU backend does, so both give the same figures to within
// rounding. One block per column; blockDim.x must be STAT_THREADS.

#define STAT_THREADS 256

// Sum of a double over the block; every thread gets the total.
__device__ double block_sum(double v, double* shared) {
    shared[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) shared[threadIdx.x] += shared[threadIdx.x + s];
        __syncthreads();
    }
    double total = shared[0];
    __syncthreads();
    return total;
}

// Mean and population variance of columns `idx[0..count]` (two passes, like the CPU).
extern "C" __global__ void column_stats(const float* x, long long n, const int* idx, int count, double* mean,
                                        double* var) {
    __shared__ double shared[STAT_THREADS];
    int j = blockIdx.x;
    if (j >= count) return;
    const float* c = x + (long long)idx[j] * n;
    double s = 0.0;
    for (long long i = threadIdx.x; i < n; i += blockDim.x) s += (double)c[i];
    double m = block_sum(s, shared) / (double)(n > 0 ? n : 1);
    double q = 0.0;
    for (long long i = threadIdx.x; i < n; i += blockDim.x) {
        double d = (double)c[i] - m;
        q += d * d;
    }
    double v = block_sum(q, shared) / (double)(n > 0 ? n : 1);
    if (threadIdx.x == 0) {
        mean[j] = m;
        var[j] = v;
    }
}

// Pearson correlation of columns `idx[0..count]` with the target y (means given).
extern "C" __global__ void pearson(const float* x, long long n, const int* idx, int count, const double* means,
                                   const float* y, double y_mean, double* r) {
    __shared__ double shared[STAT_THREADS];
    int k = blockIdx.x;
    if (k >= count) return;
    const float* c = x + (long long)idx[k] * n;
    double mx = means[k];
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (long long i = threadIdx.x; i < n; i += blockDim.x) {
        double dx = (double)c[i] - mx;
        double dy = (double)y[i] - y_mean;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    sxy = block_sum(sxy, shared);
    sxx = block_sum(sxx, shared);
    syy = block_sum(syy, shared);
    if (threadIdx.x == 0) r[k] = (sxx <= 0.0 || syy <= 0.0) ? 0.0 : sxy / sqrt(sxx * syy);
}

// Joint histogram (bin x class) of columns `idx[0..count]` for mutual information. The bin of
// a value is the number of interior edges <= it (Rust's `edges.partition_point(|e| e <= x)`),
// with each column's edges computed on the host exactly as the CPU estimator does.
// edges: count x max_edges (n_edges[k] used); counts: count x (max_edges + 1) x classes.
// Dynamic shared memory: (max_edges + 1) * classes unsigned ints plus max_edges floats.
extern "C" __global__ void mi_histogram(const float* x, long long n, const int* idx, int count, const float* edges,
                                        const int* n_edges, int max_edges, const unsigned int* classes, int n_classes,
                                        unsigned int* counts) {
    extern __shared__ unsigned int hist[];
    int k = blockIdx.x;
    if (k >= count) return;
    int cells = (max_edges + 1) * n_classes;
    float* e = (float*)(hist + cells);
    int ne = n_edges[k];
    for (int t = threadIdx.x; t < cells; t += blockDim.x) hist[t] = 0u;
    for (int t = threadIdx.x; t < ne; t += blockDim.x) e[t] = edges[(long long)k * max_edges + t];
    __syncthreads();
    const float* c = x + (long long)idx[k] * n;
    for (long long i = threadIdx.x; i < n; i += blockDim.x) {
        float v = c[i];
        int b = 0;
        while (b < ne && e[b] <= v) b++;
        atomicAdd(&hist[b * n_classes + classes[i]], 1u);
    }
    __syncthreads();
    unsigned int* out = counts + (long long)k * cells;
    for (int t = threadIdx.x; t < cells; t += blockDim.x) out[t] = hist[t];
}
