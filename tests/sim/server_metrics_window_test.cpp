// The server's scraped /metrics over a stage's window, over a load's passes (several windows), and over
// the whole run: hand-computed from a series of eleven scrapes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sim/catalog/catalog.hpp"
#include "sim/validate/server_metrics_window.hpp"

namespace servetwin {
namespace {

constexpr TimeNs kS = 1'000'000'000;

// Scrapes at 0..10 s: running = t, waiting = 10 - t, KV usage t/100, preemptions_total 0,0,1,1,1,3,3,4,4,4,6
// (rises at 2, 5, 7 and 10 s). Waiting is blank at 3 s (a column the server did not export that time).
std::filesystem::path write_series() {
  auto p = std::filesystem::temp_directory_path() / ("servetwin-smw-" + std::to_string(::getpid()) + ".csv");
  std::ofstream out(p);
  out << "t_ns,running,waiting,kv_cache_usage,preemptions_total\n";
  const int pre[] = {0, 0, 1, 1, 1, 3, 3, 4, 4, 4, 6};
  for (int t = 0; t <= 10; ++t)
    out << t * kS << "," << t << "," << (t == 3 ? std::string() : std::to_string(10 - t)) << "," << t / 100.0 << "," << pre[t] << "\n";
  return p;
}

TEST(ServerMetricsWindow, OneWindow) {
  const auto csv = write_series();
  const nlohmann::json m = server_metrics_in_window(read_server_scrapes(csv), 2 * kS, 4 * kS);  // scrapes at 2, 3, 4 s
  EXPECT_DOUBLE_EQ(m["running_mean"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(m["waiting_mean"].get<double>(), (8.0 + 6.0) / 2);  // 3 s has none
  EXPECT_DOUBLE_EQ(m["kv_usage_max"].get<double>(), 0.04);
  EXPECT_DOUBLE_EQ(m["preemptions"].get<double>(), 1.0);  // 1 at 4 s less 0 at 1 s (the last scrape before)
  EXPECT_EQ(m["scrapes"], 3);
  EXPECT_EQ(server_metrics_in_windows(read_server_scrapes(csv), {{2 * kS, 4 * kS}}), m);
  std::filesystem::remove(csv);
}

// A load in two passes, windows [2, 4] s and [7, 8] s: means over the five scrapes inside either, the
// higher KV maximum, preemptions summed per window (1 in the first; 4 at 8 s less 3 at 6 s in the second).
TEST(ServerMetricsWindow, PassesPoolTheirWindows) {
  const auto csv = write_series();
  const nlohmann::json m = server_metrics_in_windows(read_server_scrapes(csv), {{2 * kS, 4 * kS}, {7 * kS, 8 * kS}});
  EXPECT_DOUBLE_EQ(m["running_mean"].get<double>(), (2.0 + 3 + 4 + 7 + 8) / 5);
  EXPECT_DOUBLE_EQ(m["waiting_mean"].get<double>(), (8.0 + 6 + 3 + 2) / 4);
  EXPECT_DOUBLE_EQ(m["kv_usage_max"].get<double>(), 0.08);
  EXPECT_DOUBLE_EQ(m["preemptions"].get<double>(), 1.0 + 1.0);
  EXPECT_EQ(m["scrapes"], 5);
  // The whole run: 6 at 10 s less 0 at 0 s.
  const nlohmann::json run = server_metrics_over_run(read_server_scrapes(csv));
  EXPECT_DOUBLE_EQ(run["preemptions"].get<double>(), 6.0);
  EXPECT_EQ(run["scrapes"], 11);
  std::filesystem::remove(csv);
}

TEST(ServerMetricsWindow, MalformedCellNamesFileAndLine) {
  const auto p = std::filesystem::temp_directory_path() / ("servetwin-smw-bad-" + std::to_string(::getpid()) + ".csv");
  std::ofstream(p) << "t_ns,running\n0,1\n1000,x\n";
  try {
    (void)read_server_scrapes(p);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("line 3: running"), std::string::npos) << e.what();
  }
  std::filesystem::remove(p);
}

}  // namespace
}  // namespace servetwin
