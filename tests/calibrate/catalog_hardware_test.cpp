// calibrate reads model geometry and GPU datasheet peaks from the catalog (issue 18): every model id or alias
// `predict` accepts is accepted by `calibrate run --model`, and the CUDA binary's own device table (it cannot read
// the catalog on a bare GPU machine) carries the catalog's figures.
#include <gtest/gtest.h>

#include <filesystem>

#include "calibrate/core/catalog_hardware.hpp"
#include "sim/catalog/catalog.hpp"
#include "tests/shipped_catalog.hpp"

namespace servetwin::calibrate {
namespace {

TEST(CalibrateCatalog, AcceptsEveryModelIdAndAliasPredictAccepts) {
  const Catalog& c = shipped_catalog();
  std::size_t checked = 0;
  for (const auto& name : c.names("models")) {
    const ModelSpec& m = c.model(name);
    std::vector<std::string> ids = m.aliases;
    ids.push_back(m.name);
    for (const auto& id : ids) {
      const ModelGeometry g = catalog_model_geometry(c, id);
      EXPECT_EQ(g.name, m.name) << id;
      EXPECT_EQ(g.layers, m.num_layers) << id;
      EXPECT_EQ(g.hidden, m.hidden_size) << id;
      EXPECT_EQ(g.ffn, m.intermediate_size) << id;
      EXPECT_EQ(g.heads_q, m.num_attention_heads) << id;
      EXPECT_EQ(g.heads_kv, m.num_kv_heads) << id;
      EXPECT_EQ(g.head_dim, m.head_dim) << id;
      EXPECT_EQ(g.vocab, m.vocab_size) << id;
      EXPECT_EQ(g.gated, m.gated_mlp) << id;
      EXPECT_FALSE(gemm_shapes(g, 1).empty()) << id;
      ++checked;
    }
  }
  EXPECT_GT(checked, 26u);
  // The id of the issue, and its geometry (Llama-2-7B config.json: 32 layers, 4096 hidden, 11008 FFN).
  const ModelGeometry llama = catalog_model_geometry(c, "meta-llama/Llama-2-7b-hf");
  EXPECT_EQ(llama.layers, 32);
  EXPECT_EQ(llama.hidden, 4096);
  EXPECT_EQ(llama.ffn, 11008);
  EXPECT_EQ(catalog_model_geometry(c, "tiny").name, "tiny");
  EXPECT_THROW((void)catalog_model_geometry(c, "nope"), ConfigError);
}

TEST(CalibrateCatalog, GeometryTravelsToTheCudaBinaryIntact) {
  const ModelGeometry g = catalog_model_geometry(shipped_catalog(), "facebook/opt-13b");
  const ModelGeometry back = parse_geometry_arg(g.name, geometry_arg(g));
  EXPECT_EQ(geometry_arg(back), geometry_arg(g));
  EXPECT_FALSE(back.gated);  // OPT's plain 2-matrix MLP
  EXPECT_THROW((void)parse_geometry_arg("x", "32,4096,11008,32,32,128,32000"), std::invalid_argument);
  EXPECT_THROW((void)parse_geometry_arg("x", "32,4096,11008,32,32,128,32000,2"), std::invalid_argument);
  EXPECT_THROW((void)parse_geometry_arg("x", "32,4096,0,32,32,128,32000,1"), std::invalid_argument);
  EXPECT_THROW((void)parse_geometry_arg("x", "32,4096,1x,32,32,128,32000,1"), std::invalid_argument);
}

TEST(CalibrateCatalog, CudaDatasheetTableMatchesCatalog) {
  for (const auto& d : datasheets()) {
    const Datasheet c = catalog_datasheet(shipped_catalog(), d.gpu);
    EXPECT_EQ(c.gpu, d.gpu);
    EXPECT_DOUBLE_EQ(c.peak_fp16_flops, d.peak_fp16_flops) << d.gpu;
    EXPECT_DOUBLE_EQ(c.mem_bw_bytes_s, d.mem_bw_bytes_s) << d.gpu;
  }
  EXPECT_THROW((void)catalog_datasheet(shipped_catalog(), "no-such-gpu"), ConfigError);
}

}  // namespace
}  // namespace servetwin::calibrate
