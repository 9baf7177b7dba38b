#include "calibrate/cpu/cpu_suite.hpp"

#include <Eigen/Dense>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "calibrate/core/model_shapes.hpp"

namespace servetwin::calibrate {

namespace {

using Clock = std::chrono::steady_clock;
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Keeps results observable so the optimiser cannot drop the timed work.
std::atomic<double> g_sink{0};

// Times `body` under the stop rule after one warm-up call; returns the sample statistics (ns).
SampleStats time_ns(const std::function<void()>& body, const StopRule& rule) {
  body();  // warm-up: page faults, caches, lazy allocation
  std::vector<double> samples;
  const auto start = Clock::now();
  for (;;) {
    const auto t0 = Clock::now();
    body();
    const auto t1 = Clock::now();
    samples.push_back(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    const double elapsed = std::chrono::duration<double>(t1 - start).count();
    if (should_stop(samples, elapsed, rule)) break;
  }
  return summarize(samples);
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  return "unknown CPU";
}

}  // namespace

CalibrationData run_cpu_suite(const CpuSuiteOptions& o) {
  const ModelGeometry& g = o.geometry;
  CalibrationData d;
  d.device.kind = "cpu";
  d.device.name = cpu_model_name();
  d.device.device_count = 1;
  d.model = g.name;
  d.tp = o.tp;
  d.dtype = "fp32";
  d.date_utc = utc_now_iso8601();
  d.sources.emplace_back("servetwin calibrate run --device cpu");
  d.notes.emplace_back("CPU rehearsal: Eigen fp32 GEMM, single thread; peaks are the best measured figures, not a datasheet");

  // GEMM at the model's per-GPU shapes: C[M,N] = A[M,K] * W[K,N].
  double best_flops = 0;
  for (const auto& s : gemm_shapes(g, o.tp, o.lm_head)) {
    const Matrix w = Matrix::Random(s.k, s.n);
    for (const int m : log_grid(o.m_min, o.m_max)) {
      const Matrix a = Matrix::Random(m, s.k);
      Matrix c(m, s.n);
      const auto st = time_ns([&] { c.noalias() = a * w; g_sink = g_sink + c(0, 0); }, o.stop);
      d.gemm.push_back({s.op, g.name, o.tp, static_cast<double>(m), static_cast<double>(s.n),
                        static_cast<double>(s.k), st.median, st.iqr});
      best_flops = std::max(best_flops, 2.0 * m * s.n * s.k / (st.median * 1e-9));
    }
  }

  // Memory read and copy bandwidth over buffers larger than the last-level cache.
  double best_bw = 0;
  for (const double bytes : o.mem_sizes_bytes) {
    const std::size_t n = static_cast<std::size_t>(bytes / sizeof(float));
    std::vector<float> src(n, 1.0f), dst(n, 0.0f);
    const auto rd = time_ns(
        [&] {
          const Eigen::Map<const Eigen::VectorXf> v(src.data(), static_cast<Eigen::Index>(n));
          g_sink = g_sink + static_cast<double>(v.sum());
        },
        o.stop);
    d.bandwidth.push_back({"mem_read", "", 0, bytes, rd.median});
    best_bw = std::max(best_bw, bytes / (rd.median * 1e-9));
    const auto cp = time_ns([&] { std::memcpy(dst.data(), src.data(), n * sizeof(float)); g_sink = g_sink + dst[n / 2]; },
                            o.stop);
    d.bandwidth.push_back({"mem_copy", "", 0, 2 * bytes, cp.median});
  }

  // Elementwise kernels of a layer, fp32 (bytes = 2x the fp16 definitions in model_shapes.hpp).
  const int kv_heads = g.heads_kv >= o.tp ? g.heads_kv / o.tp : 1;
  for (const int m : log_grid(16, o.elementwise_m_max, 1)) {
    Matrix x = Matrix::Random(m, g.hidden), y(m, g.hidden), r = Matrix::Random(m, g.hidden);
    const Eigen::VectorXf gamma = Eigen::VectorXf::Ones(g.hidden);
    const auto norm = time_ns(
        [&] {
          for (int i = 0; i < m; ++i) {
            const float inv = 1.0f / std::sqrt(x.row(i).squaredNorm() / static_cast<float>(g.hidden) + 1e-6f);
            y.row(i) = x.row(i).cwiseProduct(gamma.transpose()) * inv;
          }
          g_sink = g_sink + y(0, 0);
        },
        o.stop);
    d.bandwidth.push_back({"elementwise", "rmsnorm", double(m), 2 * elementwise_bytes("rmsnorm", m, g, o.tp), norm.median});
    const auto add = time_ns([&] { y.noalias() = x + r; g_sink = g_sink + y(0, 0); }, o.stop);
    d.bandwidth.push_back({"elementwise", "add", double(m), 2 * elementwise_bytes("add", m, g, o.tp), add.median});
    const int ffn = g.ffn / o.tp;
    Matrix gate = Matrix::Random(m, ffn), up = Matrix::Random(m, ffn), out(m, ffn);
    const auto silu = time_ns(
        [&] {
          out = (gate.array() / (1.0f + (-gate.array()).exp()) * up.array()).matrix();
          g_sink = g_sink + out(0, 0);
        },
        o.stop);
    d.bandwidth.push_back({"elementwise", "silu_mul", double(m), 2 * elementwise_bytes("silu_mul", m, g, o.tp), silu.median});
    const int width = (g.heads_q / o.tp + kv_heads) * g.head_dim;
    Matrix qk = Matrix::Random(m, width);
    const auto rope = time_ns(
        [&] {
          const int half = g.head_dim / 2;
          for (int i = 0; i < m; ++i)
            for (int h = 0; h < width / g.head_dim; ++h)
              for (int j = 0; j < half; ++j) {
                const float theta = static_cast<float>(i) * std::pow(10000.0f, -2.0f * static_cast<float>(j) / static_cast<float>(g.head_dim));
                const float c = std::cos(theta), s = std::sin(theta);
                float& a0 = qk(i, h * g.head_dim + j);
                float& a1 = qk(i, h * g.head_dim + j + half);
                const float t0 = a0 * c - a1 * s, t1 = a0 * s + a1 * c;
                a0 = t0, a1 = t1;
              }
          g_sink = g_sink + qk(0, 0);
        },
        o.stop);
    d.bandwidth.push_back({"elementwise", "rope", double(m), 2 * elementwise_bytes("rope", m, g, o.tp), rope.median});
  }

  // Attention, one layer's heads on this shard: naive causal prefill (Eigen products) and decode
  // as a KV-cache read (one query token against the context).
  const int hq = g.heads_q / o.tp, hd = g.head_dim;
  for (const int q_len : {64, 128, 256}) {  // sizes kept small: CI budget
    Matrix q = Matrix::Random(q_len, hd), k = Matrix::Random(q_len, hd), v = Matrix::Random(q_len, hd), out(q_len, hd);
    const auto st = time_ns(
        [&] {
          for (int h = 0; h < hq; ++h) {
            Matrix s = q * k.transpose();
            for (int i = 0; i < q_len; ++i) {
              for (int j = i + 1; j < q_len; ++j) s(i, j) = -1e30f;
              const float mx = s.row(i).maxCoeff();
              s.row(i) = (s.row(i).array() - mx).exp().matrix();
              s.row(i) /= s.row(i).sum();
            }
            out.noalias() = s * v;
          }
          g_sink = g_sink + out(0, 0);
        },
        o.stop);
    AttentionPoint a{"prefill", 1, double(q_len), 0, double(hq), double(kv_heads), double(hd), 0, 0, st.median};
    a.flops = attention_prefill_flops(1, q_len, 0, hq, hd);
    a.kv_bytes = attention_kv_bytes(1, q_len, kv_heads, hd, 4);
    d.attention.push_back(a);
  }
  for (const int ctx : {2048, 8192, 32768}) {
    const int batch = 4;
    Matrix kc = Matrix::Random(static_cast<Eigen::Index>(batch) * ctx, static_cast<Eigen::Index>(kv_heads) * hd), vc = kc;
    Eigen::VectorXf qv = Eigen::VectorXf::Random(hd);
    const auto st = time_ns(
        [&] {
          float acc = 0;
          for (int b = 0; b < batch; ++b)
            for (int h = 0; h < kv_heads; ++h) {
              const auto kb = kc.block(static_cast<Eigen::Index>(b) * ctx, static_cast<Eigen::Index>(h) * hd, ctx, hd);
              const auto vb = vc.block(static_cast<Eigen::Index>(b) * ctx, static_cast<Eigen::Index>(h) * hd, ctx, hd);
              const Eigen::VectorXf s = kb * qv;
              acc += (vb.transpose() * s).sum();
            }
          g_sink = g_sink + acc;
        },
        o.stop);
    AttentionPoint a{"decode", double(batch), 1, double(ctx), double(hq), double(kv_heads), double(hd), 0, 0, st.median};
    a.kv_bytes = attention_kv_bytes(batch, ctx, kv_heads, hd, 4);
    a.flops = attention_prefill_flops(batch, 1, ctx, hq, hd);
    d.attention.push_back(a);
  }

  // Thread hand-off overhead: the CPU stand-in for a kernel launch (wake a worker, wait for it).
  {
    std::mutex mu;
    std::condition_variable cv;
    int posted = 0, done = 0;
    bool quit = false;
    std::thread worker([&] {
      std::unique_lock lock(mu);
      for (;;) {
        cv.wait(lock, [&] { return quit || posted > done; });
        if (quit) return;
        ++done;
        cv.notify_all();
      }
    });
    const auto st = time_ns(
        [&] {
          std::unique_lock lock(mu);
          ++posted;
          cv.notify_all();
          cv.wait(lock, [&] { return done == posted; });
        },
        o.stop);
    {
      std::lock_guard lock(mu);
      quit = true;
    }
    cv.notify_all();
    worker.join();
    d.launch.push_back({"thread", st.median});
  }

  d.device.peak_fp16_flops = best_flops;
  d.device.mem_bw_bytes_s = best_bw;
  d.device.peak_source = "measured: best fp32 GEMM FLOP/s and best read bandwidth of this run";
  return d;
}

}  // namespace servetwin::calibrate
