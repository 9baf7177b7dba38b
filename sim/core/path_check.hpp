// Non-throwing checks of paths that come from input (command-line options, config fields). The
// throwing std::filesystem calls raise filesystem_error for a path the OS cannot even look up (a
// name component over NAME_MAX bytes, a parent without search permission); such a path must end in
// the caller's own error message (file, field, allowed values; exit code 2), not escape as an
// exception nobody named.
#pragma once

#include <filesystem>
#include <string>

namespace servetwin {

struct PathCheck {
  bool exists = false;
  bool regular = false;
  bool directory = false;
  std::string lookup_error;  // why the OS could not look the path up; empty when it could (found or not)

  // " (<reason>)" when the lookup itself failed, else "": appended to a "not found" message.
  [[nodiscard]] std::string reason_suffix() const { return lookup_error.empty() ? "" : " (" + lookup_error + ")"; }
};

[[nodiscard]] PathCheck check_path(const std::filesystem::path& p);

}  // namespace servetwin
