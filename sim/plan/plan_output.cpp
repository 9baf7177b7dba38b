#include "sim/plan/plan_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <ostream>

#include "sim/metrics/summary.hpp"
#include "sim/plan/pareto.hpp"

namespace servetwin {

std::string engine_set_text(const nlohmann::json& deployment) {
  std::string out;
  for (const auto& [k, v] : deployment["engine_set"].items()) out += (out.empty() ? "" : ";") + k + "=" + v.get<std::string>();
  return out.empty() ? "-" : out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

namespace {

double num(const nlohmann::json& j, const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0; }

// "Llama-2-7b-hf g5.2xlarge TP1 tgis-rhoai-2024q1 max_batch_size=16": the model without its org.
std::string candidate_label(const nlohmann::json& c) {
  const auto& d = c["deployment"];
  const std::string model = d["model"].get<std::string>();
  const std::string settings = engine_set_text(d);
  return fmt::format("{} {} TP{} {}{}", model.substr(model.rfind('/') + 1), d["instance"].get<std::string>(),
                     d["tp"].get<int>(), d["engine"].get<std::string>(), settings == "-" ? "" : " " + settings);
}

bool plans_users(const nlohmann::json& plan) { return plan["inputs"].value("load_kind", "") == "users"; }

// The table's first line: the target load, named by its kind.
void print_plan_heading(std::ostream& os, const nlohmann::json& in) {
  if (in.value("load_kind", "") == "users") {
    os << fmt::format("plan: {} closed-loop users, SLO {}, router {}; max users per replica by bisection on whole "
                      "users to max(1, {:g}%)\n",
                      in["target_users"].get<std::int64_t>(), in["slo"].get<std::string>(), in["router"].get<std::string>(),
                      100 * in["users_search"]["tolerance_rel"].get<double>());
    return;
  }
  os << fmt::format("plan: {:g} req/s ({} arrivals), SLO {}, router {}; max rate per replica by bisection to {:g}% "
                    "(prediction interval: not available, issue 17)\n",
                    in["target_rate_per_s"].get<double>(), in["arrival"].get<std::string>(), in["slo"].get<std::string>(),
                    in["router"].get<std::string>(), 100 * in["rate_search"]["tolerance_rel"].get<double>());
}

}  // namespace

void print_plan_table(std::ostream& os, const nlohmann::json& plan) {
  const auto& cands = plan["candidates"];
  const bool users = plans_users(plan);
  print_plan_heading(os, plan["inputs"]);
  os << fmt::format("{} candidates, {} feasible\n\n", cands.size(), plan["ranked"].size());
  std::size_t label_w = 9;
  for (const auto& idx : plan["ranked"]) label_w = std::max(label_w, candidate_label(cands[idx.get<std::size_t>()]).size());
  os << fmt::format("{:>4} {:<{}} {:>9} {:>4} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}\n", "rank", "candidate", label_w,
                    users ? "max_users" : "max_req/s", "repl", "gpus", "USD/h", "USD/h*", "$/1M_in", "$/1M_out", "ttft_p99", "tpot");
  int rank = 0;
  for (const auto& idx : plan["ranked"]) {
    const auto& c = cands[idx.get<std::size_t>()];
    const auto& p = c["price"];
    const auto& t = c["at_target"];
    const std::string max_text = users ? fmt::format("{}", c["max_users"].get<std::int64_t>()) : fmt::format("{:.3g}", num(c, "max_rate_per_s"));
    os << fmt::format("{:>4} {:<{}} {:>9} {:>4} {:>5} {:>8.2f} {:>8.2f} {:>8.3f} {:>8.3f} {:>8.0f} {:>8.1f}\n", ++rank,
                      candidate_label(c), label_w, max_text, c["replicas"].get<int>(),
                      p["gpus"].get<int>(), num(p, "usd_per_hour_on_demand"), num(p, "usd_per_hour"),
                      num(p, "usd_per_1m_input_tok"), num(p, "usd_per_1m_output_tok"), num(t, "ttft_p99_ms"),
                      num(t, "tpot_mean_ms"));
  }
  os << "USD/h* = after --discount " << plan["inputs"]["discount"].get<double>() << "; $/1M = the whole hourly cost per 1M input (or output) tokens\n";
  if (plan.contains("empty_reason")) os << "\nno plan: " << plan["empty_reason"].get<std::string>() << "\n";
  bool header = false;
  for (const auto& c : cands) {
    if (c["status"] == "ok") continue;
    if (!header) os << "\nrejected:\n";
    header = true;
    os << fmt::format("  {} [{}]: {}\n", candidate_label(c), c["reason_kind"].get<std::string>(), c["reason"].get<std::string>());
  }
}

void write_plan_csv(const std::filesystem::path& path, const nlohmann::json& plan) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  const bool users = plans_users(plan);
  out << "rank,candidate,model,instance,gpu,tp,engine,engine_set,status,reason_kind,reason,"
      << (users ? "max_users,max_users_fail," : "max_rate_per_s,max_rate_fail_per_s,")
      << "replicas,instances,gpus,usd_per_hour_on_demand,usd_per_hour,usd_per_1m_input_tok,"
         "usd_per_1m_output_tok,usd_per_1m_tok,ttft_p99_ms,tpot_mean_ms,e2e_p99_ms,goodput\n";
  const auto& cands = plan["candidates"];
  std::vector<std::size_t> order = plan["ranked"].get<std::vector<std::size_t>>();
  for (std::size_t i = 0; i < cands.size(); ++i) {
    if (cands[i]["status"] != "ok") order.push_back(i);
  }
  for (std::size_t r = 0; r < order.size(); ++r) {
    const auto& c = cands[order[r]];
    const auto& d = c["deployment"];
    const bool ok = c["status"] == "ok";
    const nlohmann::json none = nlohmann::json::object();
    const auto& p = ok ? c["price"] : none;
    const auto& t = ok ? c["at_target"] : none;
    const auto& bracket = c.value(users ? "max_users_bracket" : "max_rate_bracket", nlohmann::json::array());
    auto opt = [&](const nlohmann::json& j, const char* k) { return j.contains(k) ? fmt::format("{}", j[k].get<double>()) : std::string(); };
    out << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                       ok ? fmt::format("{}", r + 1) : "", order[r], csv_field(d["model"].get<std::string>()),
                       d["instance"].get<std::string>(), d["gpu"].get<std::string>(), d["tp"].get<int>(),
                       d["engine"].get<std::string>(), csv_field(engine_set_text(d)), c["status"].get<std::string>(),
                       c.value("reason_kind", ""), csv_field(c.value("reason", "")), opt(c, users ? "max_users" : "max_rate_per_s"),
                       bracket.size() == 2 && bracket[1].is_number() ? fmt::format("{}", bracket[1].get<double>()) : "",
                       ok ? fmt::format("{}", c["replicas"].get<int>()) : "", ok ? fmt::format("{}", p["instances"].get<int>()) : "",
                       ok ? fmt::format("{}", p["gpus"].get<int>()) : "", opt(p, "usd_per_hour_on_demand"),
                       opt(p, "usd_per_hour"), opt(p, "usd_per_1m_input_tok"), opt(p, "usd_per_1m_output_tok"),
                       opt(p, "usd_per_1m_tok"), opt(t, "ttft_p99_ms"), opt(t, "tpot_mean_ms"), opt(t, "e2e_p99_ms"),
                       opt(t, "goodput"));
  }
}

void write_plan_outputs(const std::filesystem::path& dir, const nlohmann::json& plan) {
  std::filesystem::create_directories(dir);
  write_json_file(dir / "plan.json", plan);
  write_plan_csv(dir / "plan.csv", plan);
  write_pareto_csvs(dir, plan);
}

}  // namespace servetwin
