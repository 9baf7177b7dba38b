#pragma once
// The `servetwin` executable is one CLI11 app with a subcommand per verb. Verbs register
// themselves here from whichever module implements them (sim/, calibrate/, live/), so sim/ never
// depends on the others: their verb objects are linked into the executable as OBJECT libraries.
// A verb listed in kAllVerbs that no linked module registers prints "not yet available" and
// exits 4.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace servetwin::cli {

// Exit codes shared by all verbs (the table in README.md, "Exit codes").
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;       // runtime failure (I/O, server unreachable, ...)
constexpr int kExitBadInput = 2;      // bad config / flags / data file / a run over its memory budget
constexpr int kExitCannotServe = 3;   // ran, but the deployment cannot serve this: does not fit, every
                                      // request of a stage rejected or failed, no point meets the SLO
constexpr int kExitUnavailable = 4;   // verb not available in this build

// Thrown by verbs for bad user input; main prints the message and exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Verb {
  std::string name;
  std::string summary;
  // Adds options to `cmd` and returns the function that runs the verb (called after parsing).
  std::function<std::function<int()>(CLI::App& cmd)> setup;
};

std::vector<Verb>& registry();

// Static-initialisation helper: `static const VerbRegistration reg{{"predict", "...", setup}};`
struct VerbRegistration {
  explicit VerbRegistration(Verb v) { registry().push_back(std::move(v)); }
};

// A subcommand of a verb implemented by another module (e.g. `calibrate probe`, which needs the
// live runner, while `calibrate` lives in calibrate/): the parent verb adds every registered one.
struct Subverb {
  std::string parent;
  Verb verb;
};
std::vector<Subverb>& subverb_registry();
struct SubverbRegistration {
  explicit SubverbRegistration(Subverb v) { subverb_registry().push_back(std::move(v)); }
};

// The verbs the product defines, in help order.
inline const std::vector<std::string>& all_verb_names() {
  static const std::vector<std::string> names{"predict", "sweep", "plan", "validate", "load",   "serve",
                                              "calibrate", "list", "show",     "version"};
  return names;
}

}  // namespace servetwin::cli
