#pragma once
// Membership in a short list of strings (spellings, names, rule keywords read from the validation
// policy): one helper for the files that ask it, so they can share a unity-build batch.
#include <algorithm>
#include <string>
#include <vector>

namespace servetwin {

inline bool list_contains(const std::vector<std::string>& list, const std::string& x) {
  return std::find(list.begin(), list.end(), x) != list.end();
}

}  // namespace servetwin
