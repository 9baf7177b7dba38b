#include "sim/core/path_check.hpp"

#include <system_error>

namespace servetwin {

PathCheck check_path(const std::filesystem::path& p) {
  PathCheck c;
  std::error_code ec;
  const auto st = std::filesystem::status(p, ec);
  // A missing file is an answer, not a failed lookup: status() reports it through ec too.
  if (ec && ec != std::errc::no_such_file_or_directory) c.lookup_error = ec.message();
  c.exists = !ec && std::filesystem::exists(st);
  c.regular = c.exists && std::filesystem::is_regular_file(st);
  c.directory = c.exists && std::filesystem::is_directory(st);
  return c;
}

}  // namespace servetwin
