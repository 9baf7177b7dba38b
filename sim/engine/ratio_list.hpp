#pragma once
// A comma-separated list of positive ratios in an engine setting (api_ttft_spread_ratios,
// step_time_ratios): both come from a probe fit and are parsed the same way.
#include <string>
#include <vector>

namespace servetwin {

// Numbers in (0, 100], at least 3, spaces allowed after each; throws ConfigError naming `key` otherwise.
std::vector<double> parse_ratio_list(const std::string& ratios, const std::string& key);

}  // namespace servetwin
