#include "sim/plan/pareto.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <numeric>

#include "sim/plan/plan_output.hpp"

namespace servetwin {

std::vector<bool> pareto_front(const std::vector<FrontPoint>& points, bool maximize_x, bool maximize_y) {
  // Flip to "minimise both", sort by x then y, and keep each point whose y beats every earlier one.
  auto key = [&](const FrontPoint& p) { return FrontPoint{maximize_x ? -p.x : p.x, maximize_y ? -p.y : p.y}; };
  std::vector<std::size_t> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const FrontPoint ka = key(points[a]), kb = key(points[b]);
    return ka.x != kb.x ? ka.x < kb.x : ka.y < kb.y;
  });
  std::vector<bool> on(points.size(), false);
  bool any = false;
  double best_y = 0;
  for (const std::size_t i : order) {
    const double y = key(points[i]).y;
    if (!any || y < best_y) {
      on[i] = true;
      best_y = y;
      any = true;
    }
  }
  return on;
}

namespace {

struct ProbeRow {
  std::size_t candidate;
  const nlohmann::json* c;
  const nlohmann::json* probe;
  bool recommended;
};

std::vector<ProbeRow> probe_rows(const nlohmann::json& plan) {
  std::vector<ProbeRow> rows;
  const auto& rec = plan["recommended"];
  for (const auto& c : plan["candidates"]) {
    if (!c.contains("probes")) continue;
    const std::size_t idx = c["index"].get<std::size_t>();
    for (const auto& p : c["probes"]) {
      if (!(p["output_tok_s"].get<double>() > 0) || !(p["tpot_mean_ms"].get<double>() > 0)) continue;
      const bool at_max = c.contains("max_users") ? p.value("users", std::int64_t{0}) == c["max_users"].get<std::int64_t>()
                                                  : p["rate_per_s"].get<double>() == c["max_rate_per_s"].get<double>();
      const bool is_rec = rec.is_number() && rec.get<std::size_t>() == idx && at_max;
      rows.push_back({idx, &c, &p, is_rec});
    }
  }
  return rows;
}

void write_front(const std::filesystem::path& path, const std::vector<ProbeRow>& rows, const std::vector<FrontPoint>& pts,
                 const std::vector<bool>& on, const char* x_name, const char* y_name) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << fmt::format("candidate,model,instance,tp,engine,engine_set,rate_per_s,meets_slo,{},{},on_front,recommended\n",
                     x_name, y_name);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& d = (*rows[i].c)["deployment"];
    out << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", rows[i].candidate, csv_field(d["model"].get<std::string>()),
                       d["instance"].get<std::string>(), d["tp"].get<int>(), d["engine"].get<std::string>(),
                       csv_field(engine_set_text(d)), (*rows[i].probe)["rate_per_s"].get<double>(),
                       (*rows[i].probe)["met"].get<bool>() ? 1 : 0, pts[i].x, pts[i].y, on[i] ? 1 : 0,
                       rows[i].recommended ? 1 : 0);
  }
}

}  // namespace

void write_pareto_csvs(const std::filesystem::path& dir, const nlohmann::json& plan) {
  const auto rows = probe_rows(plan);
  std::vector<FrontPoint> thr, cost;
  std::vector<ProbeRow> cost_rows;
  for (const auto& r : rows) {
    const auto& p = *r.probe;
    const double gpus = (*r.c)["deployment"]["num_gpus"].get<double>();
    thr.push_back({1000.0 / p["tpot_mean_ms"].get<double>(), p["output_tok_s"].get<double>() / gpus});
    if (!r.c->contains("replica_usd_per_hour")) continue;
    cost_rows.push_back(r);
    cost.push_back({p["e2e_p99_ms"].get<double>(),
                    (*r.c)["replica_usd_per_hour"].get<double>() * 1e6 / (p["output_tok_s"].get<double>() * 3600.0)});
  }
  write_front(dir / "pareto_throughput.csv", rows, thr, pareto_front(thr, true, true), "tok_s_per_user",
              "output_tok_s_per_gpu");
  write_front(dir / "pareto_cost.csv", cost_rows, cost, pareto_front(cost, false, false), "e2e_p99_ms",
              "usd_per_1m_output_tok");
}

}  // namespace servetwin
