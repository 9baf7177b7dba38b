#pragma once
// A progress bar with an ETA on stderr for long runs (plan, sweep): drawn only when stderr is a
// terminal, and at most every 200 ms, so pipes, CI logs and tests see nothing.
#include <chrono>
#include <cstddef>
#include <string>

namespace servetwin {

class ProgressBar {
 public:
  // `enabled` false (or stderr not a TTY) makes every call a no-op.
  ProgressBar(std::string label, std::size_t total, bool enabled = true);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Call from one thread: `done` items of `total` finished.
  void update(std::size_t done);
  void finish();

  // "[#####-----]  50/100  12.3 s  ETA 12 s" (no newline); public for tests.
  static std::string render(std::size_t done, std::size_t total, double elapsed_s, int width);

 private:
  std::string label_;
  std::size_t total_;
  bool active_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace servetwin
