#include "sim/plan/plan_slo.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/catalog/catalog.hpp"

namespace servetwin {
namespace {

constexpr double kImpliedMaxRejectionRate = 0.01;

bool bounds_queueing(const std::string& metric) { return metric.rfind("ttft", 0) == 0 || metric.rfind("e2e", 0) == 0; }

double parse_value(const std::string& term, std::size_t start) {
  try {
    std::size_t used = 0;
    const double v = std::stod(term.substr(start), &used);
    if (used != term.size() - start || !std::isfinite(v)) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw ConfigError("--slo term '" + term + "': value is not a number");
  }
}

// Handles one per-request or goodput term; false when `term` is an aggregate term.
bool take_request_term(const std::string& term, PlanSlo& slo, bool& goodput_given) {
  struct Limit {
    const char* prefix;
    double PlanSlo::*field;
  };
  static const Limit kLimits[] = {{"ttft_ms<=", &PlanSlo::ttft_ms_max},
                                  {"tpot_ms<=", &PlanSlo::tpot_ms_max},
                                  {"e2e_ms<=", &PlanSlo::e2e_ms_max}};
  for (const auto& l : kLimits) {
    const std::string prefix = l.prefix;
    if (term.rfind(prefix, 0) != 0) continue;
    const double v = parse_value(term, prefix.size());
    if (!(v > 0)) throw ConfigError("--slo term '" + term + "': a latency limit must be > 0 ms");
    slo.*l.field = v;
    slo.per_request = true;
    return true;
  }
  if (term.rfind("goodput", 0) != 0) return false;
  if (term.rfind("goodput>=", 0) != 0) throw ConfigError("--slo term '" + term + "': expected goodput>=FRACTION");
  slo.goodput_min = parse_value(term, 9);
  if (!(slo.goodput_min > 0 && slo.goodput_min <= 1)) {
    throw ConfigError("--slo term '" + term + "': goodput is a fraction of requests in (0, 1], e.g. goodput>=0.99");
  }
  goodput_given = true;
  return true;
}

}  // namespace

PlanSlo parse_plan_slo(const std::string& text) {
  PlanSlo slo;
  std::string aggregate_text;
  bool goodput_given = false;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string term = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (term.empty() || take_request_term(term, slo, goodput_given)) continue;
    aggregate_text += (aggregate_text.empty() ? "" : ",") + term;
  }
  slo.aggregate = parse_slo(aggregate_text);  // names the allowed aggregate metrics on a bad term
  if (goodput_given && !slo.per_request) {
    throw ConfigError("--slo: goodput>=F needs a per-request limit to count against (ttft_ms<=, tpot_ms<=, e2e_ms<=)");
  }
  const bool queue_bounded = std::isfinite(slo.ttft_ms_max) || std::isfinite(slo.e2e_ms_max) ||
                             std::any_of(slo.aggregate.begin(), slo.aggregate.end(),
                                         [](const SloTerm& t) { return t.at_most && bounds_queueing(t.metric); });
  if (!queue_bounded) {
    throw ConfigError(fmt::format("--slo '{}': bound TTFT or E2E latency (e.g. ttft_p99_ms<=2000 or ttft_ms<=2000); "
                                  "without one an overloaded server, whose queue grows without end, meets the SLO (with --users, "
                                  "users past the batch limit wait in that queue while TPOT stays flat)",
                                  text));
  }
  const bool names_rejection = std::any_of(slo.aggregate.begin(), slo.aggregate.end(),
                                           [](const SloTerm& t) { return t.metric == "rejection_rate"; });
  if (!slo.per_request && !names_rejection) slo.aggregate.push_back({"rejection_rate", true, kImpliedMaxRejectionRate});
  slo.text = text;
  if (slo.per_request && !goodput_given) slo.text += fmt::format(",goodput>={:g}", slo.goodput_min);
  if (!slo.per_request && !names_rejection) slo.text += fmt::format(",rejection_rate<={:g}", kImpliedMaxRejectionRate);
  return slo;
}

namespace {
bool request_meets(const PlanSlo& slo, const RequestRecord& r) {
  if (r.status != RequestStatus::kOk || r.first_token_ns < 0 || r.finish_ns < 0) return false;
  const double ttft_ms = static_cast<double>(r.first_token_ns - r.arrival_ns) / 1e6;
  const double e2e_ms = static_cast<double>(r.finish_ns - r.arrival_ns) / 1e6;
  const double tpot_ms =
      r.output_tokens > 1 ? static_cast<double>(r.finish_ns - r.first_token_ns) / 1e6 / static_cast<double>(r.output_tokens - 1) : 0.0;
  return ttft_ms <= slo.ttft_ms_max && tpot_ms <= slo.tpot_ms_max && e2e_ms <= slo.e2e_ms_max;
}
}  // namespace

SloCheck check_plan_slo(const PlanSlo& slo, const nlohmann::json& metrics, const std::vector<RequestRecord>& records) {
  SloCheck c;
  c.violations = slo_violations(slo.aggregate, metrics);
  if (slo.per_request) {
    const auto ok = std::count_if(records.begin(), records.end(), [&](const RequestRecord& r) { return request_meets(slo, r); });
    c.goodput = records.empty() ? 0.0 : static_cast<double>(ok) / static_cast<double>(records.size());
    if (c.goodput < slo.goodput_min) {
      c.violations += fmt::format("{}goodput={:.4g}<{:g}", c.violations.empty() ? "" : ", ", c.goodput, slo.goodput_min);
    }
  }
  c.met = c.violations.empty();
  return c;
}

}  // namespace servetwin
