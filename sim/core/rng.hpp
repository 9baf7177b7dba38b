#pragma once
// Deterministic random streams. One user seed; each subsystem derives its own independent stream
// from (seed, stream name, index) with SplitMix64, so adding draws in one subsystem never shifts
// another's sequence. Engines and distributions are Boost.Random: their output is specified
// bit-for-bit, unlike std:: distributions, which differ between standard libraries.
#include <boost/random/mersenne_twister.hpp>
#include <cstdint>
#include <string_view>

namespace servetwin {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31U);
}

// FNV-1a: a stable hash of the stream name (std::hash is not stable across implementations).
inline std::uint64_t stable_hash(std::string_view s) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  return h;
}

inline std::uint64_t derive_seed(std::uint64_t seed, std::string_view stream, std::uint64_t index = 0) {
  return splitmix64(splitmix64(seed ^ stable_hash(stream)) + index);
}

using Rng = boost::random::mt19937_64;

inline Rng make_rng(std::uint64_t seed, std::string_view stream, std::uint64_t index = 0) {
  return Rng(derive_seed(seed, stream, index));
}

}  // namespace servetwin
