// servetwin-cuda-bench: the GPU microbenchmark suite (issue 7). Writes the same JSON schema as the
// CPU suite (calibrate/core/calibration_data.hpp), which `servetwin calibrate fit` turns into a
// hardware profile.
//
// Conventions (facts from nvbench / nccl-tests, code our own):
//  - Google Benchmark drives the suite; every benchmark uses manual timing with CUDA events and
//    runs one GB iteration inside which our noise-based sampler (core/stats.hpp) takes samples
//    until the relative standard error of the mean is below 0.5% (or a sample/time cap); a looser
//    rule than nvbench's stdev/mean criterion, see core/stats.hpp. The
//    median goes to GB as the iteration time; IQR, CV and sample count go in GB counters and JSON.
//  - warm-up launch before sampling; L2 flushed (memset of a 2x-L2 buffer) before every cold
//    sample of GEMM, attention and bandwidth kernels;
//  - effective SM clock measured with a clock64() spin kernel against CUDA events;
//  - NCCL all-reduce: algbw = bytes / t, busbw = algbw * 2(n-1)/n, result checked.
// Attention is a project kernel set, not cuDNN SDPA: prefill is unfused (QK^T and PV as
// cuBLASLt strided-batched GEMMs around a causal-softmax kernel) and decode is a two-pass kernel
// over a paged KV cache (block 16, vLLM's layout). They under-state FlashAttention's prefill
// efficiency; the fitted attn_prefill_flops_eff is therefore conservative (docs/calibration.md).
#include <benchmark/benchmark.h>
#include <cublasLt.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "calibrate/core/calibration_data.hpp"
#include "calibrate/core/datasheet.hpp"
#include "calibrate/core/model_shapes.hpp"
#include "calibrate/core/stats.hpp"

namespace sc = servetwin::calibrate;

#define CUDA_CHECK(x)                                                                             \
  do {                                                                                            \
    cudaError_t err_ = (x);                                                                       \
    if (err_ != cudaSuccess) {                                                                    \
      std::fprintf(stderr, "CUDA error %s at %s:%d: %s\n", #x, __FILE__, __LINE__,                \
                   cudaGetErrorString(err_));                                                     \
      std::exit(1);                                                                               \
    }                                                                                             \
  } while (0)
#define CUBLAS_CHECK(x)                                                                           \
  do {                                                                                            \
    cublasStatus_t st_ = (x);                                                                     \
    if (st_ != CUBLAS_STATUS_SUCCESS) {                                                           \
      std::fprintf(stderr, "cuBLASLt error %d at %s:%d\n", static_cast<int>(st_), __FILE__, __LINE__); \
      std::exit(1);                                                                               \
    }                                                                                             \
  } while (0)
#define NCCL_CHECK(x)                                                                             \
  do {                                                                                            \
    ncclResult_t r_ = (x);                                                                        \
    if (r_ != ncclSuccess) {                                                                      \
      std::fprintf(stderr, "NCCL error %s at %s:%d\n", ncclGetErrorString(r_), __FILE__, __LINE__); \
      std::exit(1);                                                                               \
    }                                                                                             \
  } while (0)

namespace {

struct Args {
  // The model's label and geometry (model_shapes.hpp geometry_arg); `servetwin calibrate run` passes both from
  // the catalog. Without --geometry only the toy "tiny" is known.
  std::string model = "tiny", geometry, out = "cuda-results.json", git_sha = "unknown";
  int tp = 1, m_max = 16384, device = 0;
  bool quick = false;
  double max_seconds = 0.5;  // per benchmark point
};

sc::CalibrationData g_data;
sc::StopRule g_rule{10, 200, 0.005, 0.5};
void* g_flush = nullptr;
size_t g_flush_bytes = 0;
cudaStream_t g_stream;

void flush_l2() { CUDA_CHECK(cudaMemsetAsync(g_flush, 0, g_flush_bytes, g_stream)); }

// Times `launch` with CUDA events under the noise-based stop rule; `cold` flushes L2 first.
sc::SampleStats sample(const std::function<void()>& launch, bool cold) {
  cudaEvent_t a, b;
  CUDA_CHECK(cudaEventCreate(&a));
  CUDA_CHECK(cudaEventCreate(&b));
  launch();  // warm-up
  CUDA_CHECK(cudaStreamSynchronize(g_stream));
  std::vector<double> ns;
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    if (cold) flush_l2();
    CUDA_CHECK(cudaEventRecord(a, g_stream));
    launch();
    CUDA_CHECK(cudaEventRecord(b, g_stream));
    CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    ns.push_back(static_cast<double>(ms) * 1e6);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (sc::should_stop(ns, elapsed, g_rule)) break;
  }
  CUDA_CHECK(cudaEventDestroy(a));
  CUDA_CHECK(cudaEventDestroy(b));
  return sc::summarize(ns);
}

void report(benchmark::State& state, const sc::SampleStats& st) {
  state.SetIterationTime(st.median * 1e-9);
  state.counters["median_us"] = st.median / 1e3;
  state.counters["iqr_us"] = st.iqr / 1e3;
  state.counters["cv"] = st.cv;
  state.counters["samples"] = static_cast<double>(st.n);
}

// ---------------------------------------------------------------- kernels

__global__ void fill_half(__half* p, size_t n, float v) {
  for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    p[i] = __float2half(v * static_cast<float>((i * 2654435761u) % 1000) / 1000.0f);
}

__global__ void read_kernel(const float4* p, size_t n, float* out) {
  float acc = 0;
  for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    const float4 v = p[i];
    acc += v.x + v.y + v.z + v.w;
  }
  if (acc == 1234.5f) *out = acc;  // practically never true; keeps the loads alive
}

__global__ void rmsnorm_kernel(const __half* x, const __half* w, __half* y, int hidden) {
  const __half* row = x + size_t(blockIdx.x) * hidden;
  __half* yr = y + size_t(blockIdx.x) * hidden;
  float ss = 0;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
    const float v = __half2float(row[i]);
    ss += v * v;
  }
  __shared__ float red[32];
  for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = ss;
  __syncthreads();
  if (threadIdx.x < 32) {
    float v = threadIdx.x < (blockDim.x >> 5) ? red[threadIdx.x] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (threadIdx.x == 0) red[0] = rsqrtf(v / static_cast<float>(hidden) + 1e-6f);
  }
  __syncthreads();
  const float inv = red[0];
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) yr[i] = __float2half(__half2float(row[i]) * inv * __half2float(w[i]));
}

__global__ void add_kernel(const __half2* a, const __half2* b, __half2* c, size_t n) {
  for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) c[i] = __hadd2(a[i], b[i]);
}

__global__ void silu_mul_kernel(const __half* gate, const __half* up, __half* out, size_t n) {
  for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    const float g = __half2float(gate[i]);
    out[i] = __float2half(g / (1.0f + __expf(-g)) * __half2float(up[i]));
  }
}

// In-place rotary embedding on [tokens][heads][head_dim] (neox layout: pairs (j, j + d/2)).
__global__ void rope_kernel(__half* qk, int tokens, int heads, int head_dim) {
  const int half = head_dim / 2;
  const size_t total = size_t(tokens) * heads * half;
  for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += size_t(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(i % half);
    const size_t th = i / half;
    const int t = static_cast<int>(th / heads);
    const float theta = static_cast<float>(t) * __powf(10000.0f, -2.0f * j / head_dim);
    float s, c;
    __sincosf(theta, &s, &c);
    __half* base = qk + th * head_dim;
    const float a0 = __half2float(base[j]), a1 = __half2float(base[j + half]);
    base[j] = __float2half(a0 * c - a1 * s);
    base[j + half] = __float2half(a0 * s + a1 * c);
  }
}

// Causal softmax over rows of S [heads][q][kv] (query i sees kv positions <= kv_offset + i), fp16.
__global__ void causal_softmax_kernel(__half* s, int q_len, int kv_len, int kv_offset, float scale) {
  __half* row = s + (size_t(blockIdx.y) * q_len + blockIdx.x) * kv_len;
  const int limit = min(kv_len, kv_offset + static_cast<int>(blockIdx.x) + 1);
  __shared__ float red[32];
  float mx = -1e30f;
  for (int i = threadIdx.x; i < limit; i += blockDim.x) mx = fmaxf(mx, __half2float(row[i]) * scale);
  for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = mx;
  __syncthreads();
  if (threadIdx.x == 0) {
    float m = -1e30f;
    for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) m = fmaxf(m, red[w]);
    red[0] = m;
  }
  __syncthreads();
  mx = red[0];
  __syncthreads();
  float sum = 0;
  for (int i = threadIdx.x; i < limit; i += blockDim.x) sum += __expf(__half2float(row[i]) * scale - mx);
  for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = sum;
  __syncthreads();
  if (threadIdx.x == 0) {
    float t = 0;
    for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) t += red[w];
    red[0] = t;
  }
  __syncthreads();
  const float inv = 1.0f / red[0];
  for (int i = threadIdx.x; i < kv_len; i += blockDim.x)
    row[i] = __float2half(i < limit ? __expf(__half2float(row[i]) * scale - mx) * inv : 0.0f);
}

// Decode pass 1: scores[b][h][t] = q[b][h] . K[t] through the block table (block 16, paged).
__global__ void decode_scores_kernel(const __half* q, const __half* kcache, const int* block_table, float* scores,
                                     int ctx, int heads_q, int heads_kv, int head_dim, int max_blocks) {
  const int b = blockIdx.x, h = blockIdx.y, kvh = h / (heads_q / heads_kv);
  const __half* qv = q + (size_t(b) * heads_q + h) * head_dim;
  for (int t = threadIdx.x; t < ctx; t += blockDim.x) {
    const int blk = block_table[b * max_blocks + t / 16];
    const __half* kv = kcache + ((size_t(blk) * 16 + t % 16) * heads_kv + kvh) * head_dim;
    float acc = 0;
    for (int d = 0; d < head_dim; d += 2) {
      const float2 a = __half22float2(*reinterpret_cast<const __half2*>(qv + d));
      const float2 k = __half22float2(*reinterpret_cast<const __half2*>(kv + d));
      acc += a.x * k.x + a.y * k.y;
    }
    scores[(size_t(b) * heads_q + h) * ctx + t] = acc * rsqrtf(static_cast<float>(head_dim));
  }
}

// Decode pass 2: softmax over the scores, then out[b][h][d] = sum_t p_t V[t][d]; thread = d.
__global__ void decode_output_kernel(const float* scores, const __half* vcache, const int* block_table, __half* out,
                                     int ctx, int heads_q, int heads_kv, int head_dim, int max_blocks) {
  const int b = blockIdx.x, h = blockIdx.y, kvh = h / (heads_q / heads_kv), d = threadIdx.x;
  const float* s = scores + (size_t(b) * heads_q + h) * ctx;
  float mx = -1e30f;
  for (int t = 0; t < ctx; ++t) mx = fmaxf(mx, s[t]);  // scores are tiny next to the KV bytes
  float sum = 0, acc = 0;
  for (int t = 0; t < ctx; ++t) {
    const float p = __expf(s[t] - mx);
    sum += p;
    const int blk = block_table[b * max_blocks + t / 16];
    acc += p * __half2float(vcache[((size_t(blk) * 16 + t % 16) * heads_kv + kvh) * head_dim + d]);
  }
  out[(size_t(b) * heads_q + h) * head_dim + d] = __float2half(acc / sum);
}

__global__ void empty_kernel() {}

__global__ void spin_kernel(long long cycles, long long* out) {
  const long long start = clock64();
  while (clock64() - start < cycles) {
  }
  if (threadIdx.x == 0) *out = clock64() - start;
}

__global__ void fill_float(float* p, size_t n, float v) {
  for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) p[i] = v;
}
__global__ void count_mismatch(const float* p, size_t n, float expect, unsigned long long* bad) {
  for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    if (p[i] != expect) atomicAdd(bad, 1ull);
}

// ---------------------------------------------------------------- cuBLASLt GEMM

cublasLtHandle_t g_lt;
void* g_workspace = nullptr;
constexpr size_t kWorkspaceBytes = 64u << 20;

// Row-major C[M,N] = A[M,K] * W[K,N] in fp16 with fp32 accumulation, as column-major
// C^T[N,M] = W^T[N,K] * A^T[K,M] (no transposes). `batch` > 1: strided batched.
struct LtGemm {
  cublasLtMatmulDesc_t op{};
  cublasLtMatrixLayout_t la{}, lb{}, lc{};
  cublasLtMatmulAlgo_t algo{};
  bool ok = false;
  LtGemm(int m, int n, int k, int batch = 1, long long stride_w = 0, long long stride_a = 0, long long stride_c = 0,
         bool transpose_w = false) {
    CUBLAS_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    cublasOperation_t ta = transpose_w ? CUBLAS_OP_T : CUBLAS_OP_N;
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    // W^T is N x K column-major (ld N); transposed storage is K x N (ld K).
    CUBLAS_CHECK(transpose_w ? cublasLtMatrixLayoutCreate(&la, CUDA_R_16F, k, n, k)
                             : cublasLtMatrixLayoutCreate(&la, CUDA_R_16F, n, k, n));
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16F, k, m, k));
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16F, n, m, n));
    if (batch > 1) {
      for (auto [l, s] : {std::pair{la, stride_w}, std::pair{lb, stride_a}, std::pair{lc, stride_c}}) {
        CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch));
        CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &s, sizeof s));
      }
    }
    cublasLtMatmulPreference_t pref;
    CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    size_t ws = kWorkspaceBytes;
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    cublasLtMatmulHeuristicResult_t res{};
    int found = 0;
    CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(g_lt, op, la, lb, lc, lc, pref, 1, &res, &found));
    CUBLAS_CHECK(cublasLtMatmulPreferenceDestroy(pref));
    ok = found > 0;
    if (ok) algo = res.algo;
  }
  void run(const __half* w, const __half* a, __half* c) const {
    const float alpha = 1.0f, beta = 0.0f;
    CUBLAS_CHECK(cublasLtMatmul(g_lt, op, &alpha, w, la, a, lb, &beta, c, lc, c, lc, &algo, g_workspace,
                                kWorkspaceBytes, g_stream));
  }
  ~LtGemm() {
    cublasLtMatrixLayoutDestroy(la);
    cublasLtMatrixLayoutDestroy(lb);
    cublasLtMatrixLayoutDestroy(lc);
    cublasLtMatmulDescDestroy(op);
  }
};

template <typename T>
T* dev_alloc(size_t count) {
  T* p = nullptr;
  CUDA_CHECK(cudaMalloc(&p, count * sizeof(T)));
  return p;
}
void fill(__half* p, size_t n) {
  fill_half<<<1024, 256, 0, g_stream>>>(p, n, 0.5f);
  CUDA_CHECK(cudaGetLastError());
}

// ---------------------------------------------------------------- benchmark registration

void register_gemms(const sc::ModelGeometry& g, int tp, const std::vector<int>& m_grid) {
  for (const auto& s : sc::gemm_shapes(g, tp, true)) {
    for (int m : m_grid) {
      const std::string name = "gemm/" + s.op + "/M=" + std::to_string(m) + "/N=" + std::to_string(s.n) + "/K=" +
                               std::to_string(s.k);
      benchmark::RegisterBenchmark(name.c_str(), [s, m, g, tp](benchmark::State& state) {
        __half* w = dev_alloc<__half>(size_t(s.k) * s.n);
        __half* a = dev_alloc<__half>(size_t(m) * s.k);
        __half* c = dev_alloc<__half>(size_t(m) * s.n);
        fill(w, size_t(s.k) * s.n);
        fill(a, size_t(m) * s.k);
        LtGemm gemm(m, s.n, s.k);
        for (auto _ : state) {
          if (!gemm.ok) {
            state.SkipWithError("no cuBLASLt algorithm");
            break;
          }
          const auto st = sample([&] { gemm.run(w, a, c); }, true);
          report(state, st);
          state.counters["TFLOPs"] = 2.0 * m * s.n * s.k / st.median / 1e3;
          g_data.gemm.push_back({s.op, g.name, tp, double(m), double(s.n), double(s.k), st.median, st.iqr});
        }
        CUDA_CHECK(cudaFree(w));
        CUDA_CHECK(cudaFree(a));
        CUDA_CHECK(cudaFree(c));
      })->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
    }
  }
}

void register_elementwise(const sc::ModelGeometry& g, int tp, const std::vector<int>& m_grid) {
  const int kv_heads = g.heads_kv >= tp ? g.heads_kv / tp : 1;
  for (int m : m_grid) {
    benchmark::RegisterBenchmark(("elementwise/M=" + std::to_string(m)).c_str(), [=](benchmark::State& state) {
      const size_t h = size_t(g.hidden), f = size_t(g.ffn / tp);
      const int heads = g.heads_q / tp + kv_heads;
      __half* x = dev_alloc<__half>(m * h);
      __half* y = dev_alloc<__half>(m * h);
      __half* r = dev_alloc<__half>(m * h);
      __half* w = dev_alloc<__half>(h);
      __half* gate = dev_alloc<__half>(m * f);
      __half* up = dev_alloc<__half>(m * f);
      __half* o = dev_alloc<__half>(m * f);
      __half* qk = dev_alloc<__half>(size_t(m) * heads * g.head_dim);
      fill(x, m * h), fill(r, m * h), fill(w, h), fill(gate, m * f), fill(up, m * f);
      fill(qk, size_t(m) * heads * g.head_dim);
      const int grid = 4 * 132;
      for (auto _ : state) {
        auto push = [&](const char* op, const sc::SampleStats& st) {
          g_data.bandwidth.push_back({"elementwise", op, double(m), sc::elementwise_bytes(op, m, g, tp), st.median});
        };
        const auto a = sample([&] { rmsnorm_kernel<<<m, 256, 0, g_stream>>>(x, w, y, g.hidden); }, true);
        push("rmsnorm", a);
        const auto b = sample([&] {
          add_kernel<<<grid, 256, 0, g_stream>>>(reinterpret_cast<const __half2*>(x), reinterpret_cast<const __half2*>(r),
                                                 reinterpret_cast<__half2*>(y), m * h / 2);
        }, true);
        push("add", b);
        const auto c = sample([&] { silu_mul_kernel<<<grid, 256, 0, g_stream>>>(gate, up, o, m * f); }, true);
        push("silu_mul", c);
        const auto d = sample([&] { rope_kernel<<<grid, 256, 0, g_stream>>>(qk, m, heads, g.head_dim); }, true);
        push("rope", d);
        CUDA_CHECK(cudaGetLastError());
        report(state, a);
      }
      for (void* p : {static_cast<void*>(x), static_cast<void*>(y), static_cast<void*>(r), static_cast<void*>(w),
                      static_cast<void*>(gate), static_cast<void*>(up), static_cast<void*>(o), static_cast<void*>(qk)})
        CUDA_CHECK(cudaFree(p));
    })->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
  }
}

void register_attention(const sc::ModelGeometry& g, int tp, bool quick) {
  const int hq = g.heads_q / tp, hkv = g.heads_kv >= tp ? g.heads_kv / tp : 1, hd = g.head_dim;
  const std::vector<int> seqs = quick ? std::vector<int>{512, 2048} : std::vector<int>{256, 512, 1024, 2048, 4096, 8192};
  for (int q_len : seqs) {
    benchmark::RegisterBenchmark(("attn_prefill/q=" + std::to_string(q_len)).c_str(), [=](benchmark::State& state) {
      // Unfused causal attention, batch 1, no prior context: S = Q K^T per head, softmax, O = P V.
      const size_t qkv = size_t(q_len) * hq * hd;
      __half* q = dev_alloc<__half>(qkv);
      __half* k = dev_alloc<__half>(qkv);  // K/V expanded to q heads (GQA shares are a layout detail here)
      __half* v = dev_alloc<__half>(qkv);
      __half* s = dev_alloc<__half>(size_t(hq) * q_len * q_len);
      __half* o = dev_alloc<__half>(qkv);
      fill(q, qkv), fill(k, qkv), fill(v, qkv);
      // Per head (batch = heads): S^T[kv,q] = K[kv,hd] * Q^T  -> as GEMM with M=q, N=kv, K=hd, W = K^T.
      LtGemm qk(q_len, q_len, hd, hq, (long long)q_len * hd, (long long)q_len * hd, (long long)q_len * q_len, true);
      LtGemm pv(q_len, hd, q_len, hq, (long long)q_len * hd, (long long)q_len * q_len, (long long)q_len * hd);
      for (auto _ : state) {
        const auto st = sample([&] {
          qk.run(k, q, s);
          causal_softmax_kernel<<<dim3(q_len, hq), 256, 0, g_stream>>>(s, q_len, q_len, 0, rsqrtf(float(hd)));
          pv.run(v, s, o);
        }, true);
        report(state, st);
        sc::AttentionPoint a{"prefill", 1, double(q_len), 0, double(hq), double(hkv), double(hd), 0, 0, st.median};
        a.flops = sc::attention_prefill_flops(1, q_len, 0, hq, hd);
        a.kv_bytes = sc::attention_kv_bytes(1, q_len, hkv, hd);
        g_data.attention.push_back(a);
      }
      for (void* p : {static_cast<void*>(q), static_cast<void*>(k), static_cast<void*>(v), static_cast<void*>(s),
                      static_cast<void*>(o)})
        CUDA_CHECK(cudaFree(p));
    })->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
  }
  const std::vector<int> batches = quick ? std::vector<int>{8, 64} : std::vector<int>{1, 8, 32, 128};
  const std::vector<int> ctxs = quick ? std::vector<int>{1024} : std::vector<int>{512, 2048, 8192};
  for (int batch : batches)
    for (int ctx : ctxs) {
      benchmark::RegisterBenchmark(("attn_decode/b=" + std::to_string(batch) + "/ctx=" + std::to_string(ctx)).c_str(),
                                   [=](benchmark::State& state) {
        const int blocks_per_seq = (ctx + 15) / 16;
        const size_t blocks = size_t(batch) * blocks_per_seq;
        __half* kc = dev_alloc<__half>(blocks * 16 * hkv * hd);
        __half* vc = dev_alloc<__half>(blocks * 16 * hkv * hd);
        __half* q = dev_alloc<__half>(size_t(batch) * hq * hd);
        __half* o = dev_alloc<__half>(size_t(batch) * hq * hd);
        float* sc_buf = dev_alloc<float>(size_t(batch) * hq * ctx);
        int* table = dev_alloc<int>(blocks);
        // Block table: a fixed shuffle, so reads are scattered as in a real paged cache.
        std::vector<int> host(blocks);
        for (size_t i = 0; i < blocks; ++i) host[i] = static_cast<int>((i * 7919) % blocks);
        CUDA_CHECK(cudaMemcpy(table, host.data(), blocks * sizeof(int), cudaMemcpyHostToDevice));
        fill(kc, blocks * 16 * hkv * hd), fill(vc, blocks * 16 * hkv * hd), fill(q, size_t(batch) * hq * hd);
        for (auto _ : state) {
          const auto st = sample([&] {
            decode_scores_kernel<<<dim3(batch, hq), 128, 0, g_stream>>>(q, kc, table, sc_buf, ctx, hq, hkv, hd, blocks_per_seq);
            decode_output_kernel<<<dim3(batch, hq), hd, 0, g_stream>>>(sc_buf, vc, table, o, ctx, hq, hkv, hd, blocks_per_seq);
          }, true);
          report(state, st);
          sc::AttentionPoint a{"decode", double(batch), 1, double(ctx), double(hq), double(hkv), double(hd), 0, 0, st.median};
          a.flops = sc::attention_prefill_flops(batch, 1, ctx, hq, hd);
          a.kv_bytes = sc::attention_kv_bytes(batch, ctx, hkv, hd);
          g_data.attention.push_back(a);
        }
        for (void* p : {static_cast<void*>(kc), static_cast<void*>(vc), static_cast<void*>(q), static_cast<void*>(o),
                        static_cast<void*>(sc_buf), static_cast<void*>(table)})
          CUDA_CHECK(cudaFree(p));
      })->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
    }
}

void register_memory(bool quick) {
  const std::vector<size_t> sizes = quick ? std::vector<size_t>{64u << 20, 256u << 20}
                                          : std::vector<size_t>{16u << 20, 64u << 20, 256u << 20, 1024u << 20};
  for (size_t bytes : sizes) {
    benchmark::RegisterBenchmark(("hbm/bytes=" + std::to_string(bytes)).c_str(), [bytes](benchmark::State& state) {
      char* a = dev_alloc<char>(bytes);
      char* b = dev_alloc<char>(bytes);
      float* sink = dev_alloc<float>(1);
      CUDA_CHECK(cudaMemset(a, 0, bytes));
      for (auto _ : state) {
        const auto cp = sample([&] { CUDA_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, g_stream)); }, true);
        g_data.bandwidth.push_back({"mem_copy", "", 0, 2.0 * bytes, cp.median});
        const auto rd = sample([&] {
          read_kernel<<<8 * 132, 512, 0, g_stream>>>(reinterpret_cast<const float4*>(a), bytes / 16, sink);
        }, true);
        g_data.bandwidth.push_back({"mem_read", "", 0, double(bytes), rd.median});
        report(state, rd);
        state.counters["read_GBps"] = bytes / rd.median;
      }
      CUDA_CHECK(cudaFree(a));
      CUDA_CHECK(cudaFree(b));
      CUDA_CHECK(cudaFree(sink));
    })->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("pcie/bytes=" + std::to_string(bytes)).c_str(), [bytes](benchmark::State& state) {
      char* d = dev_alloc<char>(bytes);
      char* h = nullptr;
      CUDA_CHECK(cudaMallocHost(&h, bytes));
      for (auto _ : state) {
        const auto up = sample([&] { CUDA_CHECK(cudaMemcpyAsync(d, h, bytes, cudaMemcpyHostToDevice, g_stream)); }, false);
        g_data.bandwidth.push_back({"h2d", "", 0, double(bytes), up.median});
        const auto down = sample([&] { CUDA_CHECK(cudaMemcpyAsync(h, d, bytes, cudaMemcpyDeviceToHost, g_stream)); }, false);
        g_data.bandwidth.push_back({"d2h", "", 0, double(bytes), down.median});
        report(state, up);
      }
      CUDA_CHECK(cudaFree(d));
      CUDA_CHECK(cudaFreeHost(h));
    })->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
  }
}

void register_launch() {
  benchmark::RegisterBenchmark("launch/stream_and_graph", [](benchmark::State& state) {
    constexpr int kLaunches = 1000;
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    CUDA_CHECK(cudaStreamBeginCapture(g_stream, cudaStreamCaptureModeGlobal));
    for (int i = 0; i < kLaunches; ++i) empty_kernel<<<1, 1, 0, g_stream>>>();
    CUDA_CHECK(cudaStreamEndCapture(g_stream, &graph));
    CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    for (auto _ : state) {
      const auto st = sample([&] { for (int i = 0; i < kLaunches; ++i) empty_kernel<<<1, 1, 0, g_stream>>>(); }, false);
      g_data.launch.push_back({"stream", st.median / kLaunches});
      const auto gr = sample([&] { CUDA_CHECK(cudaGraphLaunch(exec, g_stream)); }, false);
      g_data.launch.push_back({"graph", gr.median / kLaunches});
      report(state, st);
      state.counters["stream_ns_per_launch"] = st.median / kLaunches;
      state.counters["graph_ns_per_kernel"] = gr.median / kLaunches;
    }
    CUDA_CHECK(cudaGraphExecDestroy(exec));
    CUDA_CHECK(cudaGraphDestroy(graph));
  })->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
}

// All-reduce over the first n visible GPUs (n = 2, 4, 8 while available), single process.
void run_allreduce(int device_count, bool quick) {
  if (device_count < 2) {
    g_data.notes.push_back("NCCL all-reduce skipped: 1 GPU visible");
    return;
  }
  for (int n = 2; n <= device_count; n *= 2) {
    std::vector<int> devs(n);
    for (int i = 0; i < n; ++i) devs[i] = i;
    std::vector<ncclComm_t> comms(n);
    NCCL_CHECK(ncclCommInitAll(comms.data(), n, devs.data()));
    std::vector<cudaStream_t> streams(n);
    std::vector<float*> buf(n);
    const size_t max_bytes = quick ? (64u << 20) : (512u << 20);
    for (int i = 0; i < n; ++i) {
      CUDA_CHECK(cudaSetDevice(i));
      CUDA_CHECK(cudaStreamCreate(&streams[i]));
      CUDA_CHECK(cudaMalloc(&buf[i], max_bytes));
    }
    for (size_t bytes = 8192; bytes <= max_bytes; bytes *= (quick ? 8 : 2)) {
      const size_t count = bytes / sizeof(float);
      auto launch = [&] {
        NCCL_CHECK(ncclGroupStart());
        for (int i = 0; i < n; ++i) NCCL_CHECK(ncclAllReduce(buf[i], buf[i], count, ncclFloat, ncclSum, comms[i], streams[i]));
        NCCL_CHECK(ncclGroupEnd());
      };
      // Correctness: rank r contributes r+1; every element must equal n(n+1)/2.
      for (int i = 0; i < n; ++i) {
        CUDA_CHECK(cudaSetDevice(i));
        fill_float<<<256, 256, 0, streams[i]>>>(buf[i], count, float(i + 1));
      }
      launch();
      bool correct = true;
      for (int i = 0; i < n; ++i) {
        CUDA_CHECK(cudaSetDevice(i));
        unsigned long long* bad = dev_alloc<unsigned long long>(1);
        CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof *bad, streams[i]));
        count_mismatch<<<256, 256, 0, streams[i]>>>(buf[i], count, float(n * (n + 1) / 2), bad);
        unsigned long long h = 0;
        CUDA_CHECK(cudaMemcpyAsync(&h, bad, sizeof h, cudaMemcpyDeviceToHost, streams[i]));
        CUDA_CHECK(cudaStreamSynchronize(streams[i]));
        CUDA_CHECK(cudaFree(bad));
        correct = correct && h == 0;
      }
      // Timing: wall clock around a synchronised group (events live on one device only).
      for (int w = 0; w < 5; ++w) launch();
      std::vector<double> ns;
      const auto start = std::chrono::steady_clock::now();
      for (;;) {
        for (int i = 0; i < n; ++i) CUDA_CHECK(cudaStreamSynchronize(streams[i]));
        const auto t0 = std::chrono::steady_clock::now();
        launch();
        for (int i = 0; i < n; ++i) CUDA_CHECK(cudaStreamSynchronize(streams[i]));
        ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
        if (sc::should_stop(ns, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), g_rule)) break;
      }
      const auto st = sc::summarize(ns);
      const double algbw = bytes / (st.median * 1e-9), busbw = algbw * 2.0 * (n - 1) / n;
      std::fprintf(stderr, "all_reduce n=%d bytes=%zu time=%.1f us algbw=%.1f GB/s busbw=%.1f GB/s %s\n", n, bytes,
                   st.median / 1e3, algbw / 1e9, busbw / 1e9, correct ? "OK" : "WRONG RESULT");
      g_data.collectives.push_back({"all_reduce", "local", n, double(bytes), st.median, correct});
    }
    for (int i = 0; i < n; ++i) {
      CUDA_CHECK(cudaSetDevice(i));
      CUDA_CHECK(cudaFree(buf[i]));
      CUDA_CHECK(cudaStreamDestroy(streams[i]));
      ncclCommDestroy(comms[i]);
    }
  }
  CUDA_CHECK(cudaSetDevice(0));
}

double measure_sm_clock_mhz() {
  long long* d = dev_alloc<long long>(1);
  cudaEvent_t a, b;
  CUDA_CHECK(cudaEventCreate(&a));
  CUDA_CHECK(cudaEventCreate(&b));
  const long long cycles = 200'000'000;
  spin_kernel<<<1, 32, 0, g_stream>>>(cycles / 10, d);  // warm-up, lets the clock ramp
  CUDA_CHECK(cudaEventRecord(a, g_stream));
  spin_kernel<<<1, 32, 0, g_stream>>>(cycles, d);
  CUDA_CHECK(cudaEventRecord(b, g_stream));
  CUDA_CHECK(cudaEventSynchronize(b));
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  CUDA_CHECK(cudaFree(d));
  return static_cast<double>(cycles) / (static_cast<double>(ms) * 1e3);
}

std::string version_string(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

Args parse_args(int& argc, char** argv) {
  Args a;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", s.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (s == "--model") a.model = next();
    else if (s == "--geometry") a.geometry = next();
    else if (s == "--tp") a.tp = std::stoi(next());
    else if (s == "--out") a.out = next();
    else if (s == "--git-sha") a.git_sha = next();
    else if (s == "--m-max") a.m_max = std::stoi(next());
    else if (s == "--device") a.device = std::stoi(next());
    else if (s == "--quick") a.quick = true;
    else rest.push_back(argv[i]);  // Google Benchmark flags (e.g. --benchmark_filter)
  }
  argc = static_cast<int>(rest.size());
  for (int i = 0; i < argc; ++i) argv[i] = rest[static_cast<size_t>(i)];
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  benchmark::Initialize(&argc, argv);
  int device_count = 0;
  if (cudaGetDeviceCount(&device_count) != cudaSuccess || device_count == 0) {
    std::fprintf(stderr, "servetwin-cuda-bench: no usable CUDA device (%s)\n", cudaGetErrorString(cudaGetLastError()));
    return 1;
  }
  CUDA_CHECK(cudaSetDevice(args.device));
  CUDA_CHECK(cudaStreamCreate(&g_stream));
  CUBLAS_CHECK(cublasLtCreate(&g_lt));
  CUDA_CHECK(cudaMalloc(&g_workspace, kWorkspaceBytes));
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, args.device));
  g_flush_bytes = std::max<size_t>(2 * static_cast<size_t>(prop.l2CacheSize), 8u << 20);
  CUDA_CHECK(cudaMalloc(&g_flush, g_flush_bytes));
  if (args.quick) g_rule = sc::StopRule{5, 50, 0.01, 0.2};

  sc::ModelGeometry g = sc::tiny_geometry();
  try {
    if (!args.geometry.empty()) {
      g = sc::parse_geometry_arg(args.model, args.geometry);
    } else if (args.model != g.name) {
      throw std::invalid_argument("--model '" + args.model + "' needs --geometry (servetwin calibrate run passes it)");
    }
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "servetwin-cuda-bench: %s\n", e.what());
    return 2;
  }
  int drv = 0, rt = 0, nccl = 0;
  cudaDriverGetVersion(&drv);
  cudaRuntimeGetVersion(&rt);
  ncclGetVersion(&nccl);
  auto& dev = g_data.device;
  dev.kind = "cuda";
  dev.name = prop.name;
  dev.driver = version_string(drv);
  dev.cuda_runtime = version_string(rt);
  dev.cublas = std::to_string(cublasLtGetVersion());
  dev.nccl = std::to_string(nccl);
  dev.device_count = device_count;
  dev.sm_clock_mhz = measure_sm_clock_mhz();
  if (const sc::Datasheet* ds = sc::find_datasheet(prop.name)) {
    dev.gpu = ds->gpu;
    dev.peak_fp16_flops = ds->peak_fp16_flops;
    dev.mem_bw_bytes_s = ds->mem_bw_bytes_s;
    dev.peak_source = ds->source;
  } else {
    g_data.notes.push_back(std::string("no datasheet entry for '") + prop.name +
                           "': pass --gpu/--peak-flops/--mem-bw to `calibrate fit`");
  }
  g_data.git_sha = args.git_sha;
  g_data.date_utc = sc::utc_now_iso8601();
  g_data.model = g.name;
  g_data.tp = args.tp;
  g_data.dtype = "fp16";
  g_data.sources.push_back("servetwin-cuda-bench on " + std::string(prop.name));
  std::fprintf(stderr, "servetwin-cuda-bench: %s, driver %s, runtime %s, cuBLASLt %s, NCCL %s, SM clock %.0f MHz\n",
               prop.name, dev.driver.c_str(), dev.cuda_runtime.c_str(), dev.cublas.c_str(), dev.nccl.c_str(),
               dev.sm_clock_mhz);

  // M grid: 1..m_max on a log grid (two points per octave; one in --quick).
  const std::vector<int> m_grid = sc::log_grid(1, args.m_max, args.quick ? 1 : 2);
  register_gemms(g, args.tp, m_grid);
  register_elementwise(g, args.tp, sc::log_grid(1, std::min(args.m_max, 16384), 1));
  register_attention(g, args.tp, args.quick);
  register_memory(args.quick);
  register_launch();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  run_allreduce(device_count, args.quick);
  g_data.notes.push_back("attention: project kernels (unfused prefill via cuBLASLt + causal softmax; paged decode), "
                         "not cuDNN SDPA");
  sc::save_calibration(g_data, args.out);
  std::fprintf(stderr, "servetwin-cuda-bench: wrote %s\n", args.out.c_str());
  return 0;
}
