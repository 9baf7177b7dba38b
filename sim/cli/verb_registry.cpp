#include "sim/cli/verb_registry.hpp"

namespace servetwin::cli {

std::vector<Verb>& registry() {
  static std::vector<Verb> verbs;  // function-local: safe against static-initialisation order
  return verbs;
}

std::vector<Subverb>& subverb_registry() {
  static std::vector<Subverb> subverbs;
  return subverbs;
}

}  // namespace servetwin::cli
