// Composition root of the `servetwin` executable. It knows only the verb registry; each module
// registers its verbs (see verb_registry.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <map>

#include "sim/catalog/catalog.hpp"
#include "sim/cli/verb_registry.hpp"

int main(int argc, char** argv) {
  using namespace servetwin::cli;
  CLI::App app{"servetwin: predict, sweep and validate LLM-serving performance"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("servetwin ") + "see `servetwin version`");

  std::map<std::string, const Verb*> by_name;
  for (const auto& v : registry()) by_name[v.name] = &v;

  std::function<int()> run;
  for (const auto& name : all_verb_names()) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      auto* cmd = app.add_subcommand(name, "(not yet available in this build)");
      cmd->allow_extras();
      cmd->callback([&run, name] {
        run = [name] {
          std::cerr << "servetwin " << name << ": not yet available\n";
          return kExitUnavailable;
        };
      });
      continue;
    }
    auto* cmd = app.add_subcommand(name, it->second->summary);
    auto body = it->second->setup(*cmd);
    cmd->callback([&run, body] { run = body; });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitBadInput;
  }
  try {
    return run ? run() : kExitBadInput;
  } catch (const servetwin::ConfigError& e) {
    std::cerr << "servetwin: config error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const UsageError& e) {
    std::cerr << "servetwin: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "servetwin: error: " << e.what() << "\n";
    return kExitFailure;
  }
}
