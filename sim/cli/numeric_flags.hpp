#pragma once
// Numeric flags with a real "unset" state and strict, bounded parsing: the flag's text must be a
// whole finite number (an integer where the limit asks for one) inside its Limit, otherwise parsing
// fails with "--flag TEXT: problem; allowed: range" (exit 2). Unset flags stay std::nullopt, so a
// value equal to the default still overrides a scenario file.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/limits.hpp"

namespace servetwin::cli {

CLI::Option* add_number_flag(CLI::App& cmd, const std::string& name, std::optional<double>& out, const Limit& limit,
                             const std::string& help);
CLI::Option* add_integer_flag(CLI::App& cmd, const std::string& name, std::optional<std::int64_t>& out,
                              const Limit& limit, const std::string& help);
// Comma-separated list, each item checked against `limit`.
CLI::Option* add_number_list_flag(CLI::App& cmd, const std::string& name, std::vector<double>& out,
                                  const Limit& limit, const std::string& help);
// A duration in seconds within `limit`: "500ms", "30s", "2m", "1h" or a bare number of seconds
// (parse_duration_seconds; `predict` and `load` read --duration alike).
CLI::Option* add_duration_flag(CLI::App& cmd, const std::string& name, std::optional<double>& out, const Limit& limit,
                               const std::string& help);
// A seed: any integer in [0, 2^64 - 1].
CLI::Option* add_seed_flag(CLI::App& cmd, const std::string& name, std::optional<std::uint64_t>& out,
                           const std::string& help);
// A byte size: "4GB", "512MiB", "1.5e9" (bytes); must be > 0.
CLI::Option* add_bytes_flag(CLI::App& cmd, const std::string& name, std::optional<double>& out,
                            const std::string& help);

// Parses `text` as a number inside `limit`; throws CLI::ValidationError naming `name` otherwise.
double parse_bounded(const std::string& name, const std::string& text, const Limit& limit);
// Parses a byte size ("4GB", "512MiB", "1e9"); throws CLI::ValidationError naming `name`.
double parse_bytes(const std::string& name, const std::string& text);

}  // namespace servetwin::cli
