#include "sim/engine/ratio_list.hpp"

#include <fmt/format.h>

#include <cmath>
#include <sstream>

#include "sim/catalog/catalog.hpp"

namespace servetwin {

std::vector<double> parse_ratio_list(const std::string& ratios, const std::string& key) {
  std::vector<double> values;
  std::stringstream in(ratios);
  std::string cell;
  while (std::getline(in, cell, ',')) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(cell, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    while (used < cell.size() && cell[used] == ' ') ++used;
    if (used == 0 || used != cell.size() || !std::isfinite(v) || v <= 0 || v > 100) {
      throw ConfigError(fmt::format("{}: '{}' is not a ratio; allowed: comma-separated numbers in (0, 100], at least 3", key, cell));
    }
    values.push_back(v);
  }
  if (values.size() < 3) throw ConfigError(key + ": needs at least 3 comma-separated ratios (got " + std::to_string(values.size()) + ")");
  return values;
}

}  // namespace servetwin
