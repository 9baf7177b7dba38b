#pragma once
// A minimal CSV reader for the published tables (plain numeric/text cells, no quoted commas).
#include <filesystem>
#include <istream>
#include <string>
#include <vector>

namespace servetwin::calibrate {

class CsvTable {
 public:
  static CsvTable read(const std::filesystem::path& path);  // throws ConfigError if unreadable
  // The same from a stream; `path` names the input in errors (read() calls this).
  static CsvTable parse(std::istream& in, const std::string& path);
  [[nodiscard]] std::size_t rows() const { return cells_.size(); }
  [[nodiscard]] bool has(const std::string& column) const;
  [[nodiscard]] std::size_t column(const std::string& name) const;  // throws ConfigError naming the file
  [[nodiscard]] const std::string& text(std::size_t row, std::size_t col) const { return cells_[row][col]; }
  // NaN for an empty cell; throws ConfigError (file, line, column) for text that is not wholly a
  // finite number.
  [[nodiscard]] double number(std::size_t row, std::size_t col) const;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> cells_;
};

}  // namespace servetwin::calibrate
