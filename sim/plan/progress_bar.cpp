#include "sim/plan/progress_bar.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace servetwin {

ProgressBar::ProgressBar(std::string label, std::size_t total, bool enabled)
    : label_(std::move(label)), total_(total), active_(enabled && ::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

std::string ProgressBar::render(std::size_t done, std::size_t total, double elapsed_s, int width) {
  const double frac = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  const int filled = static_cast<int>(frac * width);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(width - filled), '-');
  std::string eta = "ETA ?";
  if (done > 0 && done < total) eta = fmt::format("ETA {:.0f} s", elapsed_s / frac - elapsed_s);
  if (done >= total) eta = "done";
  return fmt::format("[{}] {:>{}}/{} {:.1f} s {}", bar, done, fmt::formatted_size("{}", total), total, elapsed_s, eta);
}

void ProgressBar::update(std::size_t done) {
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(200) && done < total_) return;
  last_draw_ = now;
  const double elapsed_s = std::chrono::duration<double>(now - start_).count();
  std::cerr << "\r" << label_ << " " << render(done, total_, elapsed_s, 30) << "\x1b[K" << std::flush;
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_) std::cerr << "\n";
  drawn_ = false;
  active_ = false;
}

}  // namespace servetwin
