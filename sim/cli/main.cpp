// Composition root of the `servetwin` executable. It knows only the verb registry; each module
// registers its verbs (see verb_registry.hpp).
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/serving_sim.hpp"
#include "sim/catalog/parse_cache.hpp"
#include "sim/cli/verb_registry.hpp"

namespace {

#ifdef SERVETWIN_DELEGATE_EXE
// Whether `verb` (and its subcommand `sub`, for entries "VERB SUB") is implemented by the sibling
// executable (CMakeLists.txt says why).
bool is_delegated(const std::string& verb, const std::string& sub = "") {
  std::stringstream verbs(SERVETWIN_DELEGATE_VERBS);
  const std::string verb_sub = fmt::format("{} {}", verb, sub);
  for (std::string v; std::getline(verbs, v, ',');) {
    if (v == verb || (!sub.empty() && v == verb_sub)) return true;
  }
  return false;
}

// Runs the sibling in place of this process with the same arguments for its verbs. Returns only
// when it cannot be started (or the verb is not delegated: -1).
int delegate_if_needed(int argc, char** argv) {
  if (argc < 2 || !is_delegated(argv[1], argc > 2 ? argv[2] : "")) return -1;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto sibling = (ec ? std::filesystem::path(argv[0]) : self).parent_path() / SERVETWIN_DELEGATE_EXE;
  std::vector<char*> args(argv, argv + argc);
  args.push_back(nullptr);
  ::execv(sibling.c_str(), args.data());
  // strerror's buffer is shared between threads; this process has one (execv just failed).
  std::cerr << "servetwin " << argv[1] << ": cannot run " << sibling.string() << ": " << std::strerror(errno)  // NOLINT(concurrency-mt-unsafe)
            << " (the " << argv[1] << " verb ships in that executable; build it with -DSERVETWIN_WITH_LIVE=ON)\n";
  return servetwin::cli::kExitUnavailable;
}
#endif

}  // namespace

namespace {

int run_cli(int argc, char** argv) {
  using namespace servetwin::cli;
#ifdef SERVETWIN_DELEGATE_EXE
  if (const int rc = delegate_if_needed(argc, argv); rc >= 0) return rc;
#endif
  servetwin::Catalog::use_parse_cache(servetwin::default_parse_cache_dir());
  CLI::App app{"servetwin: predict, sweep and validate LLM-serving performance"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("servetwin ") + "see `servetwin version`");

  std::map<std::string, const Verb*> by_name;
  for (const auto& v : registry()) by_name[v.name] = &v;

  std::function<int()> run;
  for (const auto& name : all_verb_names()) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
#ifdef SERVETWIN_DELEGATE_EXE
      const char* summary = is_delegated(name) ? "(runs " SERVETWIN_DELEGATE_EXE ")" : "(not yet available in this build)";
#else
      const char* summary = "(not yet available in this build)";
#endif
      auto* cmd = app.add_subcommand(name, summary);
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
  } catch (const servetwin::DoesNotFitError& e) {
    // Any verb (predict, serve, calibrate engine): the run is well formed, the deployment cannot serve it.
    std::cerr << "servetwin: cannot serve: " << e.what() << "\n";
    return kExitCannotServe;
  } catch (const std::exception& e) {
    std::cerr << "servetwin: error: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace

// The verbs' setup (the parse cache's directory, CLI11's option tables) runs before run_cli's own
// try blocks: whatever it throws is still a message and exit code 1, never std::terminate.
int main(int argc, char** argv) {
  try {
    return run_cli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "servetwin: error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "servetwin: error: unknown exception\n";
  }
  return servetwin::cli::kExitFailure;
}
