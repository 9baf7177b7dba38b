#pragma once
// What a replica set costs. Replicas are packed onto whole instances (an instance with G GPUs holds
// G / gpus-per-replica replicas) and instances are billed whole, at the catalog's on-demand price
// and at that price less the user's discount (reserved / committed-use / spot, as a fraction).
// Per-token prices: all the hourly cost charged to the output tokens (as `sweep` ranks), to the
// input tokens, and to both together (blended).
#include <nlohmann/json.hpp>

#include "sim/catalog/specs.hpp"

namespace servetwin {

struct ReplicaSetPrice {
  int replicas_per_instance = 1, instances = 0, gpus = 0;
  double usd_per_hour = 0, usd_per_hour_discounted = 0;
  // Discounted prices per million tokens at the measured token rates (0 tok/s: not priced).
  double usd_per_1m_output_tok = 0, usd_per_1m_input_tok = 0, usd_per_1m_tok = 0;
};

ReplicaSetPrice price_replica_set(const InstanceSpec& instance, int gpus_per_replica, int replicas, double discount,
                                  double output_tok_s, double input_tok_s);

nlohmann::json to_json(const ReplicaSetPrice& p);

}  // namespace servetwin
