#include "sim/cli/numeric_flags.hpp"

#include <array>
#include <utility>

#include "sim/core/parse_number.hpp"

namespace servetwin::cli {

double parse_bounded(const std::string& name, const std::string& text, const Limit& limit) {
  double v = 0;
  if (!parse_finite_double(text, v)) {
    throw CLI::ValidationError(name + " '" + text + "': not a finite number; allowed: " + describe_limit(limit));
  }
  const std::string problem = limit_violation(v, limit);
  if (!problem.empty()) throw CLI::ValidationError(name + " " + text + ": " + problem);
  return v;
}

double parse_bytes(const std::string& name, const std::string& text) {
  static const std::array<std::pair<const char*, double>, 7> kUnits{{{"KiB", 1024.0},
                                                                     {"MiB", 1048576.0},
                                                                     {"GiB", 1073741824.0},
                                                                     {"KB", 1e3},
                                                                     {"MB", 1e6},
                                                                     {"GB", 1e9},
                                                                     {"B", 1.0}}};
  std::string number = text;
  double factor = 1;
  for (const auto& [suffix, f] : kUnits) {
    const std::string s(suffix);
    if (text.size() > s.size() && text.compare(text.size() - s.size(), s.size(), s) == 0) {
      number = text.substr(0, text.size() - s.size());
      factor = f;
      break;
    }
  }
  double v = 0;
  // 1 PB is far above any machine this runs on; the bound only keeps the product finite.
  if (!parse_finite_double(number, v) || !(v > 0) || v * factor > 1e15) {
    throw CLI::ValidationError(name + " '" + text + "': allowed: a size > 0 such as 4GB, 512MiB or 1e9 (bytes), at most 1e15 bytes");
  }
  return v * factor;
}

CLI::Option* add_number_flag(CLI::App& cmd, const std::string& name, std::optional<double>& out, const Limit& limit,
                             const std::string& help) {
  return cmd.add_option_function<std::string>(
      name, [&out, name, limit](const std::string& text) { out = parse_bounded(name, text, limit); }, help);
}

CLI::Option* add_duration_flag(CLI::App& cmd, const std::string& name, std::optional<double>& out, const Limit& limit,
                               const std::string& help) {
  return cmd.add_option_function<std::string>(
      name,
      [&out, name, limit](const std::string& text) {
        double v = 0;
        if (!parse_duration_seconds(text, v)) {
          throw CLI::ValidationError(name + " '" + text + "': not a duration; allowed: " + kDurationForms + ", " +
                                     describe_limit(limit));
        }
        const std::string problem = limit_violation(v, limit);
        if (!problem.empty()) throw CLI::ValidationError(name + " " + text + ": " + problem);
        out = v;
      },
      help);
}

CLI::Option* add_integer_flag(CLI::App& cmd, const std::string& name, std::optional<std::int64_t>& out,
                              const Limit& limit, const std::string& help) {
  return cmd.add_option_function<std::string>(
      name,
      [&out, name, limit](const std::string& text) {
        std::int64_t v = 0;
        if (!parse_int64(text, v)) {
          throw CLI::ValidationError(name + " '" + text + "': not an integer; allowed: " + describe_limit(limit));
        }
        parse_bounded(name, text, limit);
        out = v;
      },
      help);
}

CLI::Option* add_number_list_flag(CLI::App& cmd, const std::string& name, std::vector<double>& out,
                                  const Limit& limit, const std::string& help) {
  return cmd
      .add_option_function<std::vector<std::string>>(
          name,
          [&out, name, limit](const std::vector<std::string>& items) {
            out.clear();
            for (const auto& text : items) out.push_back(parse_bounded(name, text, limit));
          },
          help)
      ->delimiter(',');
}

CLI::Option* add_seed_flag(CLI::App& cmd, const std::string& name, std::optional<std::uint64_t>& out,
                           const std::string& help) {
  return cmd.add_option_function<std::string>(
      name,
      [&out, name](const std::string& text) {
        std::uint64_t v = 0;
        if (!parse_uint64(text, v)) {
          throw CLI::ValidationError(name + " '" + text + "': allowed: an integer in [0, 18446744073709551615]");
        }
        out = v;
      },
      help);
}

CLI::Option* add_bytes_flag(CLI::App& cmd, const std::string& name, std::optional<double>& out,
                            const std::string& help) {
  return cmd.add_option_function<std::string>(
      name, [&out, name](const std::string& text) { out = parse_bytes(name, text); }, help);
}

}  // namespace servetwin::cli
