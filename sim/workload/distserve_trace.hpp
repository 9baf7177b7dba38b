#pragma once
// DistServe alignment traces (../shared/validation/distserve/README.md): the replay workload files
// `opt-13b-sharegpt-workload/<name>.exp` are JSON lists of {prompt_len, output_len, start_time}
// with start_time in seconds from the first issue; they are derived from the per-request
// ground-truth files of the same name, so replaying them reproduces the measured arrivals exactly.
#include <filesystem>
#include <vector>

#include "sim/workload/trace.hpp"

namespace servetwin {

// Throws ConfigError naming the file for a malformed list or unsorted start times.
std::vector<TraceRow> load_distserve_workload(const std::filesystem::path& path);

}  // namespace servetwin
