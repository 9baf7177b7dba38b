#pragma once
// Fuzz inputs are handed to the parsers in memory (each parser has a from-text entry point that its
// file reader calls), so a target does no file I/O and runs thousands of inputs a second.
// Expected failures are ConfigError (bad input, exit 2); any other exception escapes the target and
// libFuzzer reports it, because the CLI would turn it into exit 1 with an unhelpful message.
#include <cstddef>
#include <cstdint>
#include <string>

namespace servetwin::fuzz {

inline std::string as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace servetwin::fuzz
