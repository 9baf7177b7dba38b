#pragma once
// Model geometry and GPU datasheet peaks for calibrate, read from the catalog (configs/models, configs/gpus):
// `calibrate run --model` accepts every model id or alias `predict` accepts, and `calibrate fit --gpu` /
// `--published` fit against the catalog's peaks. Only the CUDA binary, which cannot read the catalog on a bare
// GPU machine, keeps its own device-name table (datasheet.hpp), checked against the catalog by a test.
#include <string>

#include "calibrate/core/datasheet.hpp"
#include "calibrate/core/model_shapes.hpp"

namespace servetwin {
class Catalog;
}

namespace servetwin::calibrate {

// "tiny" (the CPU rehearsal toy) or a catalog model id/alias; the geometry's name is the catalog's id.
// Throws ConfigError naming the allowed ids for anything else.
ModelGeometry catalog_model_geometry(const Catalog& catalog, const std::string& id);

// A catalog GPU's dense FP16 peak and memory bandwidth, citing its catalog file. ConfigError when unknown.
Datasheet catalog_datasheet(const Catalog& catalog, const std::string& gpu);

}  // namespace servetwin::calibrate
