#include "sim/plan/pricing.hpp"

#include <algorithm>

namespace servetwin {
namespace {
double usd_per_1m(double usd_per_hour, double tok_s) { return tok_s > 0 ? usd_per_hour * 1e6 / (tok_s * 3600.0) : 0.0; }
}  // namespace

ReplicaSetPrice price_replica_set(const InstanceSpec& instance, int gpus_per_replica, int replicas, double discount,
                                  double output_tok_s, double input_tok_s) {
  ReplicaSetPrice p;
  p.replicas_per_instance = std::max(1, instance.gpu_count / std::max(1, gpus_per_replica));
  p.instances = (replicas + p.replicas_per_instance - 1) / p.replicas_per_instance;
  p.gpus = p.instances * instance.gpu_count;
  p.usd_per_hour = p.instances * instance.on_demand.usd_per_hour;
  p.usd_per_hour_discounted = p.usd_per_hour * (1.0 - discount);
  p.usd_per_1m_output_tok = usd_per_1m(p.usd_per_hour_discounted, output_tok_s);
  p.usd_per_1m_input_tok = usd_per_1m(p.usd_per_hour_discounted, input_tok_s);
  p.usd_per_1m_tok = usd_per_1m(p.usd_per_hour_discounted, output_tok_s + input_tok_s);
  return p;
}

nlohmann::json to_json(const ReplicaSetPrice& p) {
  return {{"replicas_per_instance", p.replicas_per_instance},
          {"instances", p.instances},
          {"gpus", p.gpus},
          {"usd_per_hour_on_demand", p.usd_per_hour},
          {"usd_per_hour", p.usd_per_hour_discounted},
          {"usd_per_1m_output_tok", p.usd_per_1m_output_tok},
          {"usd_per_1m_input_tok", p.usd_per_1m_input_tok},
          {"usd_per_1m_tok", p.usd_per_1m_tok}};
}

}  // namespace servetwin
