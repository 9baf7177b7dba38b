#pragma once
// The catalog's per-kind readers (one per file kind under configs/): each names every key it accepts
// (MapReader rejects the rest) and reads typed values with their allowed ranges. Internal to sim/catalog.
#include <filesystem>
#include <string>
#include <vector>

#include "sim/catalog/specs.hpp"
#include "sim/catalog/strict_yaml.hpp"

namespace servetwin::catalog_detail {

// The keys every catalog file may have (kind, name, notes) plus the kind's own.
std::vector<std::string> with_common(std::vector<std::string> keys);

ModelSpec parse_model(const yamlx::MapReader& r);
GpuSpec parse_gpu(const yamlx::MapReader& r);
InterconnectSpec parse_interconnect(const yamlx::MapReader& r);
InstanceSpec parse_instance(const yamlx::MapReader& r);
HardwareProfile parse_profile(const yamlx::MapReader& r);
EngineSpec parse_engine(const yamlx::MapReader& r);  // without settings: parse_engine_settings
// Engine settings need their own reader because the allowed keys are the file's own keys.
void parse_engine_settings(const yamlx::DocNode& settings, const std::string& file, EngineSpec& e);
WorkloadSpec parse_workload(const yamlx::MapReader& r, const std::filesystem::path& config_dir);

}  // namespace servetwin::catalog_detail
