// placeholder until the OpenAI transport lands
#include "live/load/runner.hpp"
#include <stdexcept>
namespace servetwin::live {
std::unique_ptr<Transport> make_openai_transport(const LoadConfig&, RequestHost&) {
  throw std::runtime_error("openai transport not built yet");
}
}  // namespace servetwin::live
