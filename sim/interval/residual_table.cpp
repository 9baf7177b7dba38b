#include "sim/interval/residual_table.hpp"

#include <fmt/format.h>

#include <fstream>
#include <ostream>

#include "sim/catalog/catalog.hpp"
#include "sim/core/parse_number.hpp"
#include "sim/metrics/request_record.hpp"

namespace servetwin {
namespace {

constexpr const char* kHeader =
    "file,dataset,source_id,metric,load,queue_wait_share,cuda_graphs,gpu,engine,model_params_b,log_ratio";
constexpr std::size_t kColumns = 11;

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Cells are names from the catalog and the CSVs; a comma or quote in one would break the line.
std::string checked_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") != std::string::npos) {
    throw std::invalid_argument("residual table: cell '" + s + "' holds a comma, quote or newline");
  }
  return s;
}

double number_cell(const std::string& text, const std::filesystem::path& path, int line, const char* field) {
  double v = 0;
  if (!parse_finite_double(text, v)) {
    throw ConfigError(fmt::format("{}:{}: field '{}' is '{}', not a number", path.string(), line, field, text));
  }
  return v;
}

}  // namespace

std::string metric_family(const std::string& metric) {
  if (metric == "throughput_output_tok_s" || metric == "throughput_total_tok_s" ||
      metric == "request_rate_achieved") {
    return "throughput";
  }
  if (starts_with(metric, "ttft_")) return "ttft";
  if (starts_with(metric, "tpot_") || starts_with(metric, "itl_") || starts_with(metric, "latency_per_token")) {
    return "tpot";
  }
  if (starts_with(metric, "e2e_")) return "e2e";
  return "";
}

bool has_interval(const std::string& metric) { return !metric_family(metric).empty(); }

void write_residual_csv(std::ostream& os, const std::vector<Residual>& residuals) {
  os << kHeader << '\n';
  for (const auto& r : residuals) {
    const StageRegime& g = r.regime;
    os << fmt::format("{},{},{},{},{},{:.6g},{},{},{},{:.6g},{:.6g}\n", checked_cell(r.file), checked_cell(r.dataset),
                      checked_cell(r.source_id), checked_cell(r.metric), checked_cell(g.load), g.queue_wait_share,
                      g.cuda_graphs ? "true" : "false", checked_cell(g.gpu), checked_cell(g.engine), g.model_params_b,
                      r.log_ratio);
  }
}

std::vector<Residual> read_residual_csv(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path.string() + ": cannot read the residual table");
  std::string text;
  int line_no = 1;
  if (!std::getline(in, text) || text != kHeader) {
    throw ConfigError(fmt::format("{}:1: header must be '{}'", path.string(), kHeader));
  }
  std::vector<Residual> out;
  while (std::getline(in, text)) {
    ++line_no;
    if (text.empty()) continue;
    const auto c = split_csv_record(text);
    if (c.size() != kColumns) {
      throw ConfigError(fmt::format("{}:{}: {} fields, the header has {}", path.string(), line_no, c.size(), kColumns));
    }
    Residual r{c[0], c[1], c[2], c[3], {}, 0};
    if (metric_family(r.metric).empty()) {
      throw ConfigError(fmt::format("{}:{}: field 'metric' is '{}': allowed are throughput_*, ttft_*, tpot_*, itl_*, "
                                    "latency_per_token_*, e2e_* columns",
                                    path.string(), line_no, r.metric));
    }
    r.regime.load = c[4];
    if (r.regime.load != "batch" && r.regime.load != "light" && r.regime.load != "queued" && r.regime.load != "saturated") {
      throw ConfigError(fmt::format("{}:{}: field 'load' is '{}': allowed are batch, light, queued, saturated",
                                    path.string(), line_no, r.regime.load));
    }
    r.regime.queue_wait_share = number_cell(c[5], path, line_no, "queue_wait_share");
    if (c[6] != "true" && c[6] != "false") {
      throw ConfigError(fmt::format("{}:{}: field 'cuda_graphs' is '{}': allowed are true, false", path.string(),
                                    line_no, c[6]));
    }
    r.regime.cuda_graphs = c[6] == "true";
    r.regime.gpu = c[7];
    r.regime.engine = c[8];
    r.regime.model_params_b = number_cell(c[9], path, line_no, "model_params_b");
    r.log_ratio = number_cell(c[10], path, line_no, "log_ratio");
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace servetwin
