#include "sim/cli/verb_registry.hpp"

namespace servetwin::cli {

std::vector<Verb>& registry() {
  static std::vector<Verb> verbs;  // function-local: safe against static-initialisation order
  return verbs;
}

}  // namespace servetwin::cli
