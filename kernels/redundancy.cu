// Redundancy check of hsof-select's CUDA backend, compiled at run time by NVRTC.
//
// Candidates are standardised (z = (x - mean) * scale, scale = 1 / (sd * sqrt(n)), so the dot
// product of two z columns is their Pearson correlation) and correlated with the kept columns
// in one GEMM, C = A^T B, A = n x ka kept block, B = n x kb candidate batch, both column-major.
// The row range is split across grid.z; each split writes its partial sums and corr_reduce adds
// them in a fixed order, so the result does not depend on scheduling (no atomics).

#define TILE 16

// out[:, k] = standardised column idx[k] of x (scale and mean computed on the host in double).
extern "C" __global__ void standardise(const float* x, long long n, const int* idx, int count, const double* mean,
                                       const double* scale, float* out) {
    int k = blockIdx.y;
    if (k >= count) return;
    const float* c = x + (long long)idx[k] * n;
    float* o = out + (long long)k * n;
    double m = mean[k], s = scale[k];
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        o[i] = (float)(((double)c[i] - m) * s);
}

// partial[z][i + j * ka] = sum over rows r of split z of A[r, i] * B[r, j].
// blockDim = (TILE, TILE); grid = (ceil(ka / TILE), ceil(kb / TILE), splits).
extern "C" __global__ void corr_partial(const float* a, const float* b, long long n, int ka, int kb,
                                        long long rows_per_split, double* partial) {
    __shared__ float as[TILE][TILE + 1];
    __shared__ float bs[TILE][TILE + 1];
    int tx = threadIdx.x, ty = threadIdx.y;
    int i0 = blockIdx.x * TILE, j0 = blockIdx.y * TILE;
    long long r_begin = (long long)blockIdx.z * rows_per_split;
    long long r_end = r_begin + rows_per_split < n ? r_begin + rows_per_split : n;
    double acc = 0.0;
    for (long long r0 = r_begin; r0 < r_end; r0 += TILE) {
        long long r = r0 + tx;  // consecutive threads read consecutive rows: coalesced
        as[tx][ty] = (r < r_end && i0 + ty < ka) ? a[r + (long long)(i0 + ty) * n] : 0.0f;
        bs[tx][ty] = (r < r_end && j0 + ty < kb) ? b[r + (long long)(j0 + ty) * n] : 0.0f;
        __syncthreads();
        float tile = 0.0f;
#pragma unroll
        for (int t = 0; t < TILE; t++) tile += as[t][tx] * bs[t][ty];
        acc += (double)tile;
        __syncthreads();
    }
    int i = i0 + tx, j = j0 + ty;
    if (i < ka && j < kb) partial[(long long)blockIdx.z * ka * kb + i + (long long)j * ka] = acc;
}

// out[t] = sum over splits of partial[s][t], in split order.
extern "C" __global__ void corr_reduce(const double* partial, int splits, int total, float* out) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= total) return;
    double s = 0.0;
    for (int z = 0; z < splits; z++) s += partial[(long long)z * total + t];
    out[t] = (float)s;
}
