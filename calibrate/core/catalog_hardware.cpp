#include "calibrate/core/catalog_hardware.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sim/catalog/catalog.hpp"

namespace servetwin::calibrate {

ModelGeometry catalog_model_geometry(const Catalog& catalog, const std::string& id) {
  if (id == tiny_geometry().name) return tiny_geometry();
  if (!catalog.has_model(id)) {
    throw ConfigError(fmt::format("unknown model '{}'; allowed: tiny (the CPU rehearsal toy) or a model of {}: {}", id,
                                  (catalog.dir() / "models").string(), fmt::join(catalog.names("models"), ", ")));
  }
  const ModelSpec& m = catalog.model(id);
  // Dense layers, or one expert's FFN for MoE models (the GEMM shape each expert runs).
  return {m.name, m.num_layers, m.hidden_size, m.intermediate_size, m.num_attention_heads, m.num_kv_heads,
          m.head_dim, m.vocab_size, m.gated_mlp};
}

Datasheet catalog_datasheet(const Catalog& catalog, const std::string& gpu) {
  const GpuSpec& g = catalog.gpu(gpu);  // ConfigError naming the allowed GPUs when unknown
  Datasheet d;
  d.gpu = g.name;
  d.peak_fp16_flops = g.peak_fp16_flops;
  d.mem_bw_bytes_s = g.mem_bw_bytes_s;
  d.source = "configs/gpus (" + g.name + ")";
  return d;
}

}  // namespace servetwin::calibrate
