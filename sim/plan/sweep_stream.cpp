#include "sim/plan/sweep_stream.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ostream>

#include "sim/catalog/catalog.hpp"
#include "sim/core/path_check.hpp"
#include "sim/metrics/summary.hpp"
#include "sim/plan/plan_output.hpp"

namespace servetwin {
namespace {

const char* kCsvHeader =
    "point,model,instance,tp,load,throughput_output_tok_s,ttft_p99_ms,tpot_mean_ms,e2e_p99_ms,"
    "usd_per_1m_output_tokens,meets_slo,note,throughput_output_tok_s_lo,throughput_output_tok_s_hi,ttft_p99_ms_lo,"
    "ttft_p99_ms_hi,tpot_mean_ms_lo,tpot_mean_ms_hi,e2e_p99_ms_lo,e2e_p99_ms_hi,usd_per_1m_output_tokens_lo,"
    "usd_per_1m_output_tokens_hi,out_of_evidence\n";

// The interval columns of a point (sweep_verb's point_line sets "interval"): bounds of the five metrics the CSV
// carries, empty where the point has none, then out_of_evidence (1/0).
std::string interval_cells(const nlohmann::json& p) {
  std::string out;
  const nlohmann::json none = nlohmann::json::object();
  const auto& iv = p.contains("interval") ? p["interval"] : none;
  for (const char* metric : {"throughput_output_tok_s", "ttft_p99_ms", "tpot_mean_ms", "e2e_p99_ms", "usd_per_1m_output_tokens"}) {
    if (iv.contains("bounds") && iv["bounds"].contains(metric)) {
      out += fmt::format(",{},{}", iv["bounds"][metric][0].get<double>(), iv["bounds"][metric][1].get<double>());
    } else {
      out += ",,";
    }
  }
  return out + (iv.contains("out_of_evidence") ? (iv["out_of_evidence"].get<bool>() ? ",1" : ",0") : ",");
}

std::string load_text(const nlohmann::json& load) {
  if (load.contains("concurrency")) return fmt::format("{}", load["concurrency"].get<std::int64_t>());
  return fmt::format("{}/s", load["rate_per_s"].get<double>());
}

std::string csv_row(const nlohmann::json& p) {
  const std::string head = fmt::format("{},{},{},{}", p["point"].get<std::size_t>(), csv_field(p["model"].get<std::string>()),
                                       p["instance"].get<std::string>(), p["tp"].get<int>());
  if (p.contains("cannot_run")) {
    return head + fmt::format(",,,,,,,0,{}{}\n", csv_field(p["cannot_run"].get<std::string>()), interval_cells(p));
  }
  const auto& m = p["metrics"];
  const auto& usd = p["cost"].value("usd_per_1m_output_tokens", nlohmann::json(nullptr));
  return head + fmt::format(",{},{},{},{},{},{},{},{}{}\n", load_text(p["load"]), m["throughput_output_tok_s"].get<double>(),
                            m["ttft_p99_ms"].get<double>(), m["tpot_mean_ms"].get<double>(), m["e2e_p99_ms"].get<double>(),
                            usd.is_number() ? fmt::format("{}", usd.get<double>()) : "", p.contains("slo_violations") ? 0 : 1,
                            csv_field(p.value("slo_violations", "")), interval_cells(p));
}

}  // namespace

SweepStream::SweepStream(const std::filesystem::path& dir, const nlohmann::json& fingerprint, bool resume, std::size_t levels)
    : dir_(dir), levels_(std::max<std::size_t>(1, levels)) {
  std::filesystem::create_directories(dir);
  const auto grid = dir / "sweep.grid.json";
  if (resume && check_path(grid).exists) {
    std::ifstream in(grid);
    // A torn or edited grid file is bad input to --resume, not a crash.
    const nlohmann::json before = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (before.is_discarded()) {
      throw ConfigError(fmt::format("--resume: {} is not valid JSON; use another --out or drop --resume", grid.string()));
    }
    if (before != fingerprint) {
      throw ConfigError(fmt::format("--resume: {} holds a different sweep ({}); use another --out or drop --resume",
                                    dir.string(), before.dump()));
    }
    load_existing(levels);
  }
  write_json_file(grid, fingerprint);
  jsonl_.open(dir / "sweep.jsonl", std::ios::binary | (entries_.empty() ? std::ios::trunc : std::ios::app));
  csv_.open(dir / "sweep.csv", std::ios::binary | (entries_.empty() ? std::ios::trunc : std::ios::app));
  if (!jsonl_ || !csv_) throw std::runtime_error("cannot write sweep.jsonl / sweep.csv in " + dir.string());
  if (entries_.empty()) {
    jsonl_bytes_ = 0;
    csv_ << kCsvHeader;
  }
}

void SweepStream::index_line(const std::string& line, std::uint64_t offset) {
  const nlohmann::json p = nlohmann::json::parse(line);
  SweepPointEntry e;
  e.offset = offset;
  e.config = static_cast<std::uint32_t>(entries_.size() / levels_);
  e.cannot_run = p.contains("cannot_run");
  e.meets_slo = !e.cannot_run && !p.contains("slo_violations");
  if (!e.cannot_run) {
    // find(), not operator[]: a resumed line without "cost" must not reach const operator[]'s undefined case.
    const auto cost = p.find("cost");
    const bool has_usd = cost != p.end() && cost->is_object() && cost->contains("usd_per_1m_output_tokens") &&
                         (*cost)["usd_per_1m_output_tokens"].is_number();
    e.usd_per_1m = has_usd ? (*cost)["usd_per_1m_output_tokens"].get<double>() : 0.0;
  }
  entries_.push_back(e);
}

// Keeps the whole lines whose point numbers run 0, 1, 2, ...; cuts sweep.jsonl after the last one and
// rewrites sweep.csv from them (a CSV row may have been lost or torn separately).
void SweepStream::load_existing(std::size_t /*levels*/) {
  std::ifstream in(dir_ / "sweep.jsonl", std::ios::binary);
  std::ofstream csv(dir_ / "sweep.csv.part", std::ios::binary | std::ios::trunc);
  csv << kCsvHeader;
  std::string line;
  std::uint64_t offset = 0;
  while (std::getline(in, line) && !in.eof()) {  // eof: the last line had no newline (torn write)
    nlohmann::json p;
    try {
      p = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      break;
    }
    if (p.value("point", -1) != static_cast<std::int64_t>(entries_.size())) break;
    index_line(line, offset);
    csv << csv_row(p);
    offset += line.size() + 1;
  }
  in.close();
  csv.close();
  jsonl_bytes_ = offset;
  if (check_path(dir_ / "sweep.jsonl").exists) std::filesystem::resize_file(dir_ / "sweep.jsonl", offset);
  std::filesystem::rename(dir_ / "sweep.csv.part", dir_ / "sweep.csv");
}

void SweepStream::append(const std::string& line) {
  const nlohmann::json p = nlohmann::json::parse(line);
  index_line(line, jsonl_bytes_);
  jsonl_ << line << '\n';
  jsonl_bytes_ += line.size() + 1;
  csv_ << csv_row(p);
}

void SweepStream::flush() {
  jsonl_.flush();
  csv_.flush();
}

nlohmann::json SweepStream::read_point(std::size_t point) {
  if (!reader_.is_open()) reader_.open(dir_ / "sweep.jsonl", std::ios::binary);
  reader_.clear();
  reader_.seekg(static_cast<std::streamoff>(entries_.at(point).offset));
  std::string line;
  std::getline(reader_, line);
  nlohmann::json p = nlohmann::json::parse(line);
  p.erase("point");
  return p;
}

namespace {

// `[` elements `]` as dump(2) writes an array nested one level in an object.
template <typename Each>
void write_array(std::ostream& os, const char* key, std::size_t n, Each&& element) {
  os << "  \"" << key << "\": [";
  if (n == 0) {
    os << "],\n";
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::string text = element(i).dump(2);
    std::string indented = "    ";
    for (const char c : text) {
      indented += c;
      if (c == '\n') indented += "    ";
    }
    os << (i == 0 ? "\n" : ",\n") << indented;
  }
  os << "\n  ],\n";
}

}  // namespace

SweepOutcome summarize_sweep(SweepStream& stream, const nlohmann::json& skipped) {
  const auto& entries = stream.entries();
  SweepOutcome out;
  auto& ok = out.ranked;
  auto& failing = out.failing;
  auto& cannot_run = out.cannot_run;
  cannot_run = skipped;
  std::int64_t last_config = -1;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].cannot_run) {
      if (static_cast<std::int64_t>(entries[i].config) == last_config) continue;  // one entry per configuration
      last_config = entries[i].config;
      const nlohmann::json p = stream.read_point(i);
      cannot_run.push_back({{"model", p["model"]}, {"instance", p["instance"]}, {"tp", p["tp"]}, {"reason", p["cannot_run"]}});
    } else {
      (entries[i].meets_slo ? ok : failing).push_back(i);
    }
  }
  // Cheapest first; ties broken by grid order, so the ranking is deterministic.
  std::stable_sort(ok.begin(), ok.end(), [&](std::size_t a, std::size_t b) { return entries[a].usd_per_1m < entries[b].usd_per_1m; });
  return out;
}

void write_sweep_document(std::ostream& os, SweepStream& stream, const SweepOutcome& outcome, const std::string& slo) {
  // Named members, not a structured binding: clang 14 (the sanitizer builds) cannot capture bindings.
  const auto& ok = outcome.ranked;
  const auto& failing = outcome.failing;
  const auto& cannot_run = outcome.cannot_run;
  os << "{\n";
  write_array(os, "cannot_run", cannot_run.size(), [&](std::size_t i) { return cannot_run[i]; });
  write_array(os, "failing_slo", failing.size(), [&](std::size_t i) { return stream.read_point(failing[i]); });
  write_array(os, "ranked", ok.size(), [&](std::size_t i) { return stream.read_point(ok[i]); });
  os << "  \"schema_version\": " << nlohmann::json(kSummarySchemaVersion).dump() << ",\n";
  os << "  \"slo\": " << nlohmann::json(slo).dump() << "\n}";
}

}  // namespace servetwin
