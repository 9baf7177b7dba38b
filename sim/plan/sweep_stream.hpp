#pragma once
// Streams sweep points to disk as they finish, in grid order (work_pool delivers in order):
//   sweep.jsonl  one JSON object per point: {"point": N, model, instance, tp, load, metrics, cost,
//                slo_violations?} or {"point": N, model, instance, tp, "cannot_run": reason}
//   sweep.csv    the headline numbers of each point, one row per point
// Memory per point is a small index entry (file offset, cost, status), so a grid of any size fits;
// sweep.json is written at the end by re-reading the ranked lines. With `resume`, the points already
// in sweep.jsonl are kept (a torn last line is cut off) and the sweep goes on after them, provided the
// grid's fingerprint (sweep.grid.json) is the same.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace servetwin {

struct SweepPointEntry {
  std::uint64_t offset = 0;  // of its line in sweep.jsonl
  double usd_per_1m = 0;
  std::uint32_t config = 0;  // grid configuration (model x instance x TP)
  bool meets_slo = false, cannot_run = false;
};

class SweepStream {
 public:
  // Opens (resume: reopens) the files in `dir`. Throws ConfigError when resuming a different grid.
  SweepStream(const std::filesystem::path& dir, const nlohmann::json& fingerprint, bool resume, std::size_t levels);
  [[nodiscard]] std::size_t finished() const { return entries_.size(); }
  // Point `point` (== finished()) as its sweep.jsonl line (no newline).
  void append(const std::string& line);
  void flush();
  [[nodiscard]] const std::vector<SweepPointEntry>& entries() const { return entries_; }
  // The point's object as sweep.json lists it (without "point").
  [[nodiscard]] nlohmann::json read_point(std::size_t point);

 private:
  void load_existing(std::size_t levels);
  void index_line(const std::string& line, std::uint64_t offset);

  std::filesystem::path dir_;
  std::size_t levels_ = 1;
  std::ofstream jsonl_, csv_;
  std::ifstream reader_;
  std::uint64_t jsonl_bytes_ = 0;
  std::vector<SweepPointEntry> entries_;
};

// The points that meet the SLO (cheapest first, grid order on ties), those that do not (grid order),
// and what cannot run: `skipped` (configurations rejected before simulating) then one entry per
// configuration whose engine would not start.
// clang-tidy 14 follows nlohmann::json's move constructor (declared noexcept) into throwing code
// paths and flags this struct's implicit moves; nothing can escape them (false positive).
// NOLINTNEXTLINE(bugprone-exception-escape)
struct SweepOutcome {
  std::vector<std::size_t> ranked, failing;
  nlohmann::json cannot_run;
};
SweepOutcome summarize_sweep(SweepStream& stream, const nlohmann::json& skipped);

// sweep.json's document, byte for byte what nlohmann's dump(2) gives for
// {cannot_run, failing_slo, ranked, schema_version, slo}, written one point at a time.
void write_sweep_document(std::ostream& os, SweepStream& stream, const SweepOutcome& outcome, const std::string& slo);

}  // namespace servetwin
