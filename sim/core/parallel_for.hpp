#pragma once
// The one worker pool of the simulator's batch runs (predict/sweep stages, validate rows, catalog parsing):
// `count` independent items on up to `jobs` threads, the calling thread among them. Items are taken in index
// order from a shared counter, so the work spreads evenly whatever each item costs; results go wherever `body`
// writes them, by index, so the output order never depends on the threads.
#include <cstddef>
#include <functional>

namespace servetwin {

// Calls body(i) for every i in [0, count). `body` must not throw (catch per item and record the error).
void parallel_for(std::size_t count, int jobs, const std::function<void(std::size_t)>& body);

}  // namespace servetwin
