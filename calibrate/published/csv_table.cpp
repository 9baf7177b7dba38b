#include "calibrate/published/csv_table.hpp"

#include <cmath>
#include <fstream>
#include <limits>

#include "sim/catalog/catalog.hpp"
#include "sim/core/parse_number.hpp"
#include "sim/metrics/request_record.hpp"

namespace servetwin::calibrate {

CsvTable CsvTable::read(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path.string() + ": cannot open");
  return parse(in, path.string());
}

CsvTable CsvTable::parse(std::istream& in, const std::string& path) {
  CsvTable t;
  t.path_ = path;
  std::string line;
  if (!std::getline(in, line)) throw ConfigError(path + ": empty file");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  t.header_ = split_csv_record(line);
  std::size_t lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto cells = split_csv_record(line);
    if (cells.size() != t.header_.size())
      throw ConfigError(path + ":" + std::to_string(lineno) + ": " + std::to_string(cells.size()) +
                        " cells, header has " + std::to_string(t.header_.size()));
    t.cells_.push_back(std::move(cells));
  }
  return t;
}

bool CsvTable::has(const std::string& column) const {
  for (const auto& h : header_)
    if (h == column) return true;
  return false;
}

std::size_t CsvTable::column(const std::string& name) const {
  for (std::size_t i = 0; i < header_.size(); ++i)
    if (header_[i] == name) return i;
  throw ConfigError(path_ + ": missing column '" + name + "'");
}

double CsvTable::number(std::size_t row, std::size_t col) const {
  const std::string& s = cells_[row][col];
  if (s.empty()) return std::numeric_limits<double>::quiet_NaN();
  double v = 0;
  // Whole cell, finite: "5abc", " 5", "nan" and "inf" are not measurements.
  if (!parse_finite_double(s, v))
    throw ConfigError(path_ + ":" + std::to_string(row + 2) + ": column '" + header_[col] + "': '" + s +
                      "' is not a finite number");
  return v;
}

}  // namespace servetwin::calibrate
